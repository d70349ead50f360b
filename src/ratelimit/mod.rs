//! Rate limiting bindings: the `RateLimiter` class over a native key table, optionally shared
//! by name across every worker thread of the process.

mod algorithm;
mod table;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use napi::bindgen_prelude::{Object, Unknown};
use napi::{Env, JsValue, ValueType};
use napi_derive::napi;

use crate::args;
use crate::error::{Error, Result};
use algorithm::{Algorithm, Outcome, Policy};
use table::{Table, WhenFull};

/// Longest key accepted, in bytes.
const MAX_KEY_LEN: usize = 1024;
const DEFAULT_MAX_KEYS: u32 = 1_000_000;
/// Largest window: about 49.7 days, far beyond any rate-limit use.
const MAX_WINDOW_MS: u32 = u32::MAX;

/// Process-wide tables of named limiters. Held for the life of the process, so a name keeps
/// its counts even while no worker has a limiter open on it.
static NAMED: LazyLock<Mutex<HashMap<String, Arc<Table>>>> = LazyLock::new(Default::default);

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct RateLimiterOptions {
  /// Units allowed per window (1 to 4294967295). With `gcra`, also the largest burst.
  pub limit: u32,
  /// Window length in milliseconds (1 to 4294967295).
  pub window_ms: u32,
  /// `'gcra'` (default), `'fixed-window'` or `'sliding-window'`.
  #[napi(ts_type = "'gcra' | 'fixed-window' | 'sliding-window'")]
  pub algorithm: Option<String>,
  /// Most keys tracked at once (1 to 2^32-1). Default 1000000.
  pub max_keys: Option<u32>,
  /// When `maxKeys` live keys are tracked and a new one arrives: `'reject'` (default) denies the
  /// new key; `'evict-oldest'` drops the tracked key nearest to expiry. Both are counted in
  /// `stats()`.
  #[napi(ts_type = "'reject' | 'evict-oldest'")]
  pub when_full: Option<String>,
  /// Share one table with every `RateLimiter` of this name in the process, in any worker
  /// thread. All of them must use the same options.
  pub name: Option<String>,
}

/// The result of `hit` or `peek`.
#[napi(object, object_from_js = false)]
pub struct RateLimitResult {
  pub allowed: bool,
  pub limit: u32,
  /// Units left right after this call.
  pub remaining: u32,
  /// Milliseconds until the key is back to its full limit.
  pub reset_ms: f64,
  /// When denied, milliseconds until the same call would be allowed; 0 when allowed.
  pub retry_after_ms: f64,
}

#[napi(object, object_from_js = false)]
pub struct RateLimiterStats {
  /// Keys tracked now.
  pub size: f64,
  pub max_keys: f64,
  /// Native memory held by the key table, in bytes (none of it is on the JavaScript heap).
  pub memory_bytes: f64,
  /// Live keys dropped to make room (`whenFull: 'evict-oldest'`).
  pub evictions: f64,
  /// New keys denied because the table was full of live keys (`whenFull: 'reject'`).
  pub rejections: f64,
}

/// A rate limiter whose state lives in native memory, off the JavaScript heap. Every call is
/// synchronous and atomic, also when worker threads share a named limiter.
#[napi]
pub struct RateLimiter {
  table: Arc<Table>,
  name: Option<String>,
}

fn ms_ceil(ns: u64) -> f64 {
  ns.div_ceil(1_000_000) as f64
}

fn required_u32(options: &Object<'_>, key: &str, min: u32, max: u32) -> Result<u32> {
  args::opt_u32(Some(options), key, min, max)?
    .ok_or_else(|| Error::arg_type(&format!("options.{key}"), "of type number", "undefined"))
}

fn opt_string(options: &Object<'_>, key: &str) -> Result<Option<String>> {
  args::field(options, key)?
    .map(|v| args::string(&v, &format!("options.{key}")))
    .transpose()
}

fn parse_options(options: &Unknown<'_>) -> Result<(Table, Option<String>)> {
  let options = args::object(options, "options")?;
  let limit = required_u32(&options, "limit", 1, u32::MAX)?;
  let window_ms = required_u32(&options, "windowMs", 1, MAX_WINDOW_MS)?;
  let algorithm = match opt_string(&options, "algorithm")? {
    None => Algorithm::Gcra,
    Some(name) => Algorithm::parse(&name).ok_or_else(|| {
      Error::arg_value(
        "options.algorithm",
        "must be 'gcra', 'fixed-window' or 'sliding-window'",
      )
    })?,
  };
  let max_keys = args::opt_u32(Some(&options), "maxKeys", 1, u32::MAX)?.unwrap_or(DEFAULT_MAX_KEYS);
  let when_full = match opt_string(&options, "whenFull")?.as_deref() {
    None | Some("reject") => WhenFull::Reject,
    Some("evict-oldest") => WhenFull::EvictOldest,
    Some(_) => {
      return Err(Error::arg_value(
        "options.whenFull",
        "must be 'reject' or 'evict-oldest'",
      ))
    }
  };
  let name = opt_string(&options, "name")?;
  if name.as_ref().is_some_and(|n| n.is_empty() || n.len() > 256) {
    return Err(Error::out_of_range("options.name", "1 to 256 bytes long"));
  }
  let policy = Policy {
    algorithm,
    limit,
    window_ns: u64::from(window_ms) * 1_000_000,
  };
  Ok((Table::new(policy, max_keys as usize, when_full), name))
}

/// Finds or creates the shared table for `name`; its options must match.
fn named_table(name: &str, table: Table) -> Result<Arc<Table>> {
  let mut named = NAMED
    .lock()
    .unwrap_or_else(|poisoned| poisoned.into_inner());
  if let Some(existing) = named.get(name) {
    if existing.policy != table.policy
      || existing.max_keys != table.max_keys
      || existing.when_full != table.when_full
    {
      return Err(Error::arg_value(
        "options.name",
        format!("\"{name}\" is already used by a limiter with different options"),
      ));
    }
    return Ok(existing.clone());
  }
  let table = Arc::new(table);
  named.insert(name.to_owned(), table.clone());
  Ok(table)
}

fn key_bytes(key: &Unknown<'_>) -> Result<String> {
  let key = args::string(key, "key")?;
  if key.len() > MAX_KEY_LEN {
    return Err(Error::out_of_range(
      "key",
      format!("at most {MAX_KEY_LEN} bytes long"),
    ));
  }
  Ok(key)
}

impl RateLimiter {
  fn cost(&self, cost: Option<&Unknown<'_>>) -> Result<u32> {
    match cost {
      None => Ok(1),
      Some(cost) if args::type_of(cost) == Some(ValueType::Undefined) => Ok(1),
      Some(cost) => args::number_u32(cost, "cost", 0, self.table.policy.limit),
    }
  }

  fn outcome(
    &self,
    key: &Unknown<'_>,
    cost: Option<&Unknown<'_>>,
    charge: bool,
  ) -> Result<Outcome> {
    let key = key_bytes(key)?;
    let cost = self.cost(cost)?;
    Ok(
      self
        .table
        .hit(key.as_bytes(), cost, charge, table::now_ns()),
    )
  }

  fn apply(
    &self,
    key: &Unknown<'_>,
    cost: Option<&Unknown<'_>>,
    charge: bool,
  ) -> Result<RateLimitResult> {
    let Outcome {
      allowed,
      remaining,
      reset_ns,
      retry_after_ns,
    } = self.outcome(key, cost, charge)?;
    Ok(RateLimitResult {
      allowed,
      limit: self.table.policy.limit,
      remaining,
      reset_ms: ms_ceil(reset_ns),
      retry_after_ms: ms_ceil(retry_after_ns),
    })
  }
}

/// The three numbers of a result, written into a caller's `Float64Array` of length 3 or more:
/// building an object here costs about twice the rest of a hit (see the README's benchmark).
/// Refuses typed arrays over a `SharedArrayBuffer`, so no other thread can touch the memory.
fn write_result(env: &Env, out: &Unknown<'_>, outcome: &Outcome) -> Result<()> {
  use napi::sys;
  let invalid = || {
    Error::arg_type(
      "out",
      "a Float64Array of length 3 over an ArrayBuffer",
      &args::describe(out),
    )
  };
  if !out.is_typedarray().unwrap_or(false) {
    return Err(invalid());
  }
  let mut kind = 0;
  let mut length = 0usize;
  let mut data = std::ptr::null_mut();
  let mut buffer = std::ptr::null_mut();
  let mut offset = 0usize;
  let mut is_plain_buffer = false;
  // SAFETY: `out` is a live value of this call's handle scope and is a typed array (checked
  // above); the out-pointers are valid locals.
  let ok = unsafe {
    sys::napi_get_typedarray_info(
      env.raw(),
      out.raw(),
      &mut kind,
      &mut length,
      &mut data,
      &mut buffer,
      &mut offset,
    ) == sys::Status::napi_ok
      && sys::napi_is_arraybuffer(env.raw(), buffer, &mut is_plain_buffer) == sys::Status::napi_ok
  };
  if !ok
    || kind != sys::TypedarrayType::float64_array
    || length < 3
    || data.is_null()
    || !is_plain_buffer
  {
    return Err(invalid());
  }
  let values = [
    f64::from(outcome.remaining),
    ms_ceil(outcome.reset_ns),
    ms_ceil(outcome.retry_after_ns),
  ];
  // SAFETY: `data` points at `length >= 3` f64 elements of a Float64Array (whose elements are
  // always 8-byte aligned) over an ordinary, non-shared ArrayBuffer, so only this thread can
  // reach the memory, and no JavaScript runs during this synchronous call. The array is an
  // argument of the call, so it stays alive; a detached buffer reports length 0 and is refused.
  unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), data.cast::<f64>(), 3) };
  Ok(())
}

#[napi]
impl RateLimiter {
  #[napi(constructor, ts_args_type = "options: RateLimiterOptions")]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    let build = || {
      let (table, name) = parse_options(&options)?;
      let table = match &name {
        Some(name) => named_table(name, table)?,
        None => Arc::new(table),
      };
      Ok(RateLimiter { table, name })
    };
    build().map_err(|e: Error| e.into_napi(&env))
  }

  /// Spends `cost` units (default 1, at most `limit`) of `key`'s budget if they are available.
  /// A denied hit spends nothing.
  #[napi(skip_typescript, ts_args_type = "key: string, cost?: number")]
  pub fn hit(
    &self,
    env: Env,
    key: Unknown,
    cost: Option<Unknown>,
  ) -> napi::Result<RateLimitResult> {
    self
      .apply(&key, cost.as_ref(), true)
      .map_err(|e| e.into_napi(&env))
  }

  /// Internal fast path behind `hit` and `peek` (the package entry point wraps the class): returns
  /// `allowed` and writes `[remaining, resetMs, retryAfterMs]` into `out`.
  #[napi(
    skip_typescript,
    js_name = "_apply",
    ts_args_type = "key: string, cost: number | undefined, charge: boolean, out: Float64Array"
  )]
  pub fn apply_into(
    &self,
    env: Env,
    key: Unknown,
    cost: Unknown,
    charge: bool,
    out: Unknown,
  ) -> napi::Result<bool> {
    let run = || {
      let outcome = self.outcome(&key, Some(&cost), charge)?;
      write_result(&env, &out, &outcome)?;
      Ok(outcome.allowed)
    };
    run().map_err(|e: Error| e.into_napi(&env))
  }

  /// What `hit` would answer, without spending anything.
  #[napi(skip_typescript, ts_args_type = "key: string, cost?: number")]
  pub fn peek(
    &self,
    env: Env,
    key: Unknown,
    cost: Option<Unknown>,
  ) -> napi::Result<RateLimitResult> {
    self
      .apply(&key, cost.as_ref(), false)
      .map_err(|e| e.into_napi(&env))
  }

  /// Gives back up to `cost` units (default 1) that an earlier `hit` spent, for requests that
  /// turn out not to count. Never gives back more than was spent in the current window.
  #[napi(ts_args_type = "key: string, cost?: number")]
  pub fn refund(&self, env: Env, key: Unknown, cost: Option<Unknown>) -> napi::Result<()> {
    let refund = || {
      let key = key_bytes(&key)?;
      let cost = self.cost(cost.as_ref())?;
      self.table.refund(key.as_bytes(), cost, table::now_ns());
      Ok(())
    };
    refund().map_err(|e: Error| e.into_napi(&env))
  }

  /// Forgets `key` (its next hit starts from a full budget). Returns whether it was tracked.
  #[napi(ts_args_type = "key: string")]
  pub fn reset(&self, env: Env, key: Unknown) -> napi::Result<bool> {
    key_bytes(&key)
      .map(|key| self.table.reset(key.as_bytes()))
      .map_err(|e| e.into_napi(&env))
  }

  /// Forgets every key (for a named limiter: in every worker).
  #[napi]
  pub fn clear(&self) {
    self.table.clear();
  }

  /// Keys tracked now.
  #[napi(getter)]
  pub fn size(&self) -> f64 {
    self.table.counters().size as f64
  }

  #[napi(getter)]
  pub fn limit(&self) -> u32 {
    self.table.policy.limit
  }

  #[napi(getter)]
  pub fn window_ms(&self) -> f64 {
    (self.table.policy.window_ns / 1_000_000) as f64
  }

  #[napi(getter, ts_return_type = "'gcra' | 'fixed-window' | 'sliding-window'")]
  pub fn algorithm(&self) -> &'static str {
    self.table.policy.algorithm.name()
  }

  #[napi(getter)]
  pub fn name(&self) -> Option<String> {
    self.name.clone()
  }

  /// Occupancy and the counters an operator should alert on.
  #[napi]
  pub fn stats(&self) -> RateLimiterStats {
    let c = self.table.counters();
    RateLimiterStats {
      size: c.size as f64,
      max_keys: self.table.max_keys as f64,
      memory_bytes: c.memory_bytes as f64,
      evictions: c.evictions as f64,
      rejections: c.rejections as f64,
    }
  }
}
