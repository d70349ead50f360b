//! Rate limiting bindings: the `RateLimiter` class over a native key table, optionally shared
//! by name across every worker thread of the process.

mod algorithm;
mod fast;
mod table;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use napi::bindgen_prelude::{Object, Unknown};
use napi::Env;
use napi_derive::napi;

use crate::args;
use crate::bound;
use crate::error::{self, Error, Result};
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

fn parse_options(options: &Unknown<'_>) -> Result<(Table, Option<String>)> {
  let options = args::object(options, "options")?;
  let limit = required_u32(&options, "limit", 1, u32::MAX)?;
  let window_ms = required_u32(&options, "windowMs", 1, MAX_WINDOW_MS)?;
  let algorithm = match args::opt_string(&options, "algorithm")? {
    None => Algorithm::Gcra,
    Some(name) => Algorithm::parse(&name).ok_or_else(|| {
      Error::arg_value(
        "options.algorithm",
        "must be 'gcra', 'fixed-window' or 'sliding-window'",
      )
    })?,
  };
  let max_keys = args::opt_u32(Some(&options), "maxKeys", 1, u32::MAX)?.unwrap_or(DEFAULT_MAX_KEYS);
  let when_full = match args::opt_string(&options, "whenFull")?.as_deref() {
    None | Some("reject") => WhenFull::Reject,
    Some("evict-oldest") => WhenFull::EvictOldest,
    Some(_) => {
      return Err(Error::arg_value(
        "options.whenFull",
        "must be 'reject' or 'evict-oldest'",
      ))
    }
  };
  let name = args::opt_string(&options, "name")?;
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

type KeyBuf = args::ShortString<MAX_KEY_LEN>;

impl RateLimiter {
  fn cost(&self, cost: &Unknown<'_>) -> Result<u32> {
    args::opt_number_u32(cost, "cost", 1, 0, self.table.policy.limit)
  }

  fn outcome(&self, key: &Unknown<'_>, cost: &Unknown<'_>, charge: bool) -> Result<Outcome> {
    let mut buf = KeyBuf::new();
    let key = args::short_string(key, "key", &mut buf)?;
    let cost = self.cost(cost)?;
    Ok(self.table.hit(key, cost, charge, table::now_ns))
  }

  fn apply(&self, key: &Unknown<'_>, cost: &Unknown<'_>, charge: bool) -> Result<RateLimitResult> {
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

/// Reads the (possibly absent) optional argument as `undefined`.
fn or_undefined<'env>(env: &'env Env, value: Option<Unknown<'env>>) -> Result<Unknown<'env>> {
  match value {
    Some(value) => Ok(value),
    None => args::undefined(env),
  }
}

#[napi]
impl RateLimiter {
  #[napi(
    constructor,
    catch_unwind,
    ts_args_type = "options: RateLimiterOptions"
  )]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    let build = || {
      let (table, name) = parse_options(&options)?;
      let table = match &name {
        Some(name) => named_table(name, table)?,
        None => Arc::new(table),
      };
      Ok(RateLimiter { table, name })
    };
    error::throw(&env, build())
  }

  /// Spends `cost` units (default 1, at most `limit`) of `key`'s budget if they are available.
  /// A denied hit spends nothing.
  #[napi(
    catch_unwind,
    skip_typescript,
    ts_args_type = "key: string, cost?: number"
  )]
  pub fn hit(
    &self,
    env: Env,
    key: Unknown,
    cost: Option<Unknown>,
  ) -> napi::Result<RateLimitResult> {
    error::throw(
      &env,
      or_undefined(&env, cost).and_then(|cost| self.apply(&key, &cost, true)),
    )
  }

  /// What `hit` would answer, without spending anything.
  #[napi(
    catch_unwind,
    skip_typescript,
    ts_args_type = "key: string, cost?: number"
  )]
  pub fn peek(
    &self,
    env: Env,
    key: Unknown,
    cost: Option<Unknown>,
  ) -> napi::Result<RateLimitResult> {
    error::throw(
      &env,
      or_undefined(&env, cost).and_then(|cost| self.apply(&key, &cost, false)),
    )
  }

  /// Internal: `[hit, peek]` functions bound to this limiter's table, for the fast path of the
  /// package entry point (`fast.rs`).
  #[napi(js_name = "_bound", catch_unwind, skip_typescript)]
  pub fn bound<'env>(&self, env: &'env Env) -> napi::Result<Vec<Unknown<'env>>> {
    let both = || {
      Ok(vec![
        bound::function::<fast::Hit>(env, self.table.clone())?,
        bound::function::<fast::Peek>(env, self.table.clone())?,
      ])
    };
    error::throw(env, both())
  }

  /// Gives back up to `cost` units (default 1) that an earlier `hit` spent, for requests that
  /// turn out not to count. Never gives back more than was spent in the current window.
  #[napi(catch_unwind, ts_args_type = "key: string, cost?: number")]
  pub fn refund(&self, env: Env, key: Unknown, cost: Option<Unknown>) -> napi::Result<()> {
    let refund = || {
      let mut buf = KeyBuf::new();
      let key = args::short_string(&key, "key", &mut buf)?;
      let cost = self.cost(&or_undefined(&env, cost)?)?;
      self.table.refund(key, cost, table::now_ns);
      Ok(())
    };
    error::throw(&env, refund())
  }

  /// Forgets `key` (its next hit starts from a full budget). Returns whether it was tracked.
  #[napi(catch_unwind, ts_args_type = "key: string")]
  pub fn reset(&self, env: Env, key: Unknown) -> napi::Result<bool> {
    let mut buf = KeyBuf::new();
    let key = args::short_string(&key, "key", &mut buf);
    error::throw(&env, key.map(|key| self.table.reset(key)))
  }

  /// Forgets every key (for a named limiter: in every worker).
  #[napi(catch_unwind)]
  pub fn clear(&self) {
    self.table.clear();
  }

  /// Keys tracked now.
  #[napi(getter, catch_unwind)]
  pub fn size(&self) -> f64 {
    self.table.counters().size as f64
  }

  #[napi(getter, catch_unwind)]
  pub fn limit(&self) -> u32 {
    self.table.policy.limit
  }

  #[napi(getter, catch_unwind)]
  pub fn window_ms(&self) -> f64 {
    (self.table.policy.window_ns / 1_000_000) as f64
  }

  #[napi(
    getter,
    catch_unwind,
    ts_return_type = "'gcra' | 'fixed-window' | 'sliding-window'"
  )]
  pub fn algorithm(&self) -> &'static str {
    self.table.policy.algorithm.name()
  }

  #[napi(getter, catch_unwind)]
  pub fn name(&self) -> Option<String> {
    self.name.clone()
  }

  /// Occupancy and the counters an operator should alert on.
  #[napi(catch_unwind)]
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

/// The memory `_hit`/`_peek` write their numbers into, as an `ArrayBuffer` for the JS wrapper
/// (the same one on every call from this thread). See `fast.rs`.
#[napi(js_name = "_rateLimitScratch", catch_unwind, skip_typescript)]
pub fn rate_limit_scratch(env: &Env) -> napi::Result<Unknown<'_>> {
  error::throw(env, fast::array_buffer(env))
}

/// `hit` and `peek` for the JS wrapper: `allowed`, with `[remaining, resetMs, retryAfterMs]`
/// left in the scratch memory.
fn apply_fast(table: &Table, key: &Unknown<'_>, cost: &Unknown<'_>, charge: bool) -> Result<bool> {
  let mut buf = KeyBuf::new();
  let key = args::short_string(key, "key", &mut buf)?;
  let cost = args::opt_number_u32(cost, "cost", 1, 0, table.policy.limit)?;
  let outcome = table.hit(key, cost, charge, table::now_ns);
  fast::write([
    f64::from(outcome.remaining),
    ms_ceil(outcome.reset_ns),
    ms_ceil(outcome.retry_after_ns),
  ]);
  Ok(outcome.allowed)
}
