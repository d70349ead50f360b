//! Password hashing bindings: argon2id by default, verification of argon2 and bcrypt hashes,
//! bounded cost for stored hashes, and async calls that run on rampart's own bounded pool.

mod abort;
mod kdf;
mod options;
mod phc;
mod pool;

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Object, ToNapiValue, Unknown};
use napi::{Env, JsDeferred};
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::args;
use crate::error::{self, Code, Error, Result};
use kdf::{HashJob, Scratch, VerifyJob};
use options::{self as opts, HashOptions, PoolOptions, VerifyOptions};

/// Options for `hashPassword` / `hashPasswordSync` / `needsRehash`. Defaults are OWASP's argon2id
/// recommendation: `memoryCost: 19456, timeCost: 2, parallelism: 1`.
// Declares the TypeScript type only: options are read field by field (args.rs) so that every
// bad value gets a stable error code.
#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct HashPasswordOptions {
  /// Memory in KiB, from `8 * parallelism` (RFC 9106's minimum) to 4194304 (4 GiB). Default 19456.
  pub memory_cost: Option<u32>,
  /// Passes over memory, 1 to 1024. Default 2.
  pub time_cost: Option<u32>,
  /// Lanes, 1 to 255. Default 1. Lanes are computed one after another on one pool thread.
  pub parallelism: Option<u32>,
  /// A pepper: a server-side secret mixed into the hash (argon2's `secret` input), up to 1024
  /// bytes. The same secret must be passed to `verifyPassword`.
  #[napi(ts_type = "string | Uint8Array")]
  pub secret: Option<String>,
  /// Cancels the call if it has not finished; the promise rejects with an `AbortError`.
  #[napi(ts_type = "AbortSignal")]
  pub signal: Option<String>,
}

/// Options for `verifyPassword` / `verifyPasswordSync`.
// Declares the TypeScript type only: options are read field by field (args.rs) so that every
// bad value gets a stable error code.
#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct VerifyPasswordOptions {
  /// The pepper the hash was made with (argon2 hashes only).
  #[napi(ts_type = "string | Uint8Array")]
  pub secret: Option<String>,
  /// Largest argon2 `m` (KiB) a stored hash may ask for. Default 262144 (256 MiB).
  pub max_memory_cost: Option<u32>,
  /// Largest argon2 `t` a stored hash may ask for. Default 16.
  pub max_time_cost: Option<u32>,
  /// Largest argon2 `p` a stored hash may ask for. Default 16.
  pub max_parallelism: Option<u32>,
  /// Largest bcrypt cost a stored hash may ask for. Default 16.
  pub max_bcrypt_cost: Option<u32>,
  /// bcrypt only looks at a password's first 72 bytes. By default a longer password checked
  /// against a bcrypt hash is an `ERR_BCRYPT_TOO_LONG` error; `true` compares the first 72 bytes,
  /// as bcrypt libraries do silently.
  pub bcrypt_truncate: Option<bool>,
  /// Cancels the call if it has not finished; the promise rejects with an `AbortError`.
  #[napi(ts_type = "AbortSignal")]
  pub signal: Option<String>,
}

/// Settings of the password-hashing pool.
// Declares the TypeScript type only: options are read field by field (args.rs) so that every
// bad value gets a stable error code.
#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct PasswordPoolOptions {
  /// Threads that hash, 1 to 256. Default: the number of CPU cores.
  pub threads: Option<u32>,
  /// Calls that may wait while every thread is busy, 0 to 1000000; past that, calls reject at
  /// once with `ERR_BUSY`.
  /// Default: 64 per thread.
  pub max_queue: Option<u32>,
}

/// A snapshot of the password-hashing pool.
#[napi(object, object_from_js = false)]
pub struct PasswordPoolStats {
  pub threads: u32,
  pub max_queue: u32,
  /// Hashes running now.
  pub running: u32,
  /// Calls waiting for a thread.
  pub queued: u32,
  /// Hashes computed since the process started (cancelled calls are not counted).
  pub completed: f64,
  /// Calls rejected with `ERR_BUSY` since the process started.
  pub rejected: f64,
}

fn hash_options(options: Option<&Object<'_>>) -> Result<HashOptions> {
  let u32_of = |key, (min, max): (u32, u32)| args::opt_u32(options, key, min, max);
  Ok(HashOptions {
    memory_cost: u32_of("memoryCost", opts::MEMORY_COST)?,
    time_cost: u32_of("timeCost", opts::TIME_COST)?,
    parallelism: u32_of("parallelism", opts::PARALLELISM)?,
  })
}

fn verify_options(options: Option<&Object<'_>>) -> Result<VerifyOptions> {
  let u32_of = |key, (min, max): (u32, u32)| args::opt_u32(options, key, min, max);
  Ok(VerifyOptions {
    max_memory_cost: u32_of("maxMemoryCost", opts::MAX_MEMORY_COST)?,
    max_time_cost: u32_of("maxTimeCost", opts::MAX_TIME_COST)?,
    max_parallelism: u32_of("maxParallelism", opts::MAX_PARALLELISM)?,
    max_bcrypt_cost: u32_of("maxBcryptCost", opts::MAX_BCRYPT_COST)?,
    bcrypt_truncate: args::opt_bool(options, "bcryptTruncate")?,
  })
}

fn secret(options: Option<&Object<'_>>) -> Result<Zeroizing<Vec<u8>>> {
  Ok(args::opt_secret(options, "secret")?.unwrap_or_default())
}

fn hash_job(password: &Unknown<'_>, options: Option<&Object<'_>>) -> Result<HashJob> {
  let password = args::secret_bytes(password, "password")?;
  HashJob::new(password, hash_options(options)?.params()?, secret(options)?)
}

fn verify_job(
  hash: &Unknown<'_>,
  password: &Unknown<'_>,
  options: Option<&Object<'_>>,
) -> Result<VerifyJob> {
  let encoded = args::string(hash, "hash")?;
  let password = args::secret_bytes(password, "password")?;
  let checks = verify_options(options)?;
  VerifyJob::new(
    &encoded,
    password,
    secret(options)?,
    &checks.bounds(),
    checks.long_passwords(),
  )
}

type Settle<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// The promise of one async call. Whoever takes the deferred first (the pool job, the abort
/// listener, or a submit failure) settles it; later attempts do nothing.
struct Pending<T: ToNapiValue + Send + 'static> {
  deferred: Mutex<Option<JsDeferred<T, Settle<T>>>>,
}

impl<T: ToNapiValue + Send + 'static> Pending<T> {
  fn take(&self) -> Option<JsDeferred<T, Settle<T>>> {
    self
      .deferred
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
      .take()
  }

  fn is_settled(&self) -> bool {
    self.deferred.lock().map_or(true, |slot| slot.is_none())
  }

  /// Settles from any thread; a rampart error becomes its JS error on the JS thread.
  fn settle(&self, result: Result<T>) {
    if let Some(deferred) = self.take() {
      deferred.resolve(Box::new(move |env| {
        result.map_err(|e| e.into_rejection(&env))
      }));
    }
  }
}

/// Builds a job from the JS arguments, queues it on the pool, and returns its promise. Argument
/// errors reject the promise rather than throw, as for any async function.
fn run_async<'env, J, T>(
  env: &'env Env,
  options: Option<Unknown<'env>>,
  prepare: impl FnOnce(Option<&Object<'env>>) -> Result<J>,
  work: fn(&J, &mut Scratch) -> Result<T>,
) -> napi::Result<Object<'env>>
where
  J: Send + 'static,
  T: ToNapiValue + Send + 'static,
{
  let (deferred, promise) = env.create_deferred::<T, Settle<T>>()?;
  let pending = Arc::new(Pending {
    deferred: Mutex::new(Some(deferred)),
  });
  // Everything below settles the promise exactly once and never throws: argument errors and
  // even a panic reject it (a sync throw as well would leave the promise's rejection unhandled).
  let queued = error::guard(|| {
    let (options, signal) = async_options(options.as_ref())?;
    let job = prepare(options.as_ref())?;
    if let Some(signal) = signal {
      if let Some(error) = signal.aborted_error(env) {
        if let Some(deferred) = pending.take() {
          deferred.reject(error);
        }
        return Ok(());
      }
      let on_abort = pending.clone();
      signal.watch(env, &promise, move |error| {
        if let Some(deferred) = on_abort.take() {
          deferred.reject(error);
        }
      })?;
    }
    let for_job = pending.clone();
    let submitted = pool::global().submit(Box::new(move |scratch| {
      if for_job.is_settled() {
        return None; // aborted while queued
      }
      let result = error::guard(|| work(&job, scratch));
      Some(Box::new(move || for_job.settle(result)))
    }));
    match submitted {
      Ok(()) => Ok(()),
      Err(pool::SubmitError::Busy) => Err(Error::new(
        Code::Busy,
        "Too many password hashes are queued; try again later",
      )),
      Err(pool::SubmitError::NoThreads) => Err(Error::new(
        Code::Internal,
        "Could not start a password-hashing thread",
      )),
    }
  });
  if let Err(e) = queued {
    pending.settle(Err(e));
  }
  Ok(promise)
}

/// A `*Sync` twin: the same job as the async call, computed on the calling thread.
fn run_sync<J, T>(
  env: &Env,
  options: Option<Unknown<'_>>,
  prepare: impl FnOnce(Option<&Object<'_>>) -> Result<J>,
  work: fn(&J, &mut Scratch) -> Result<T>,
) -> napi::Result<T> {
  error::run(env, || {
    let options = args::options(options.as_ref(), "options")?;
    work(&prepare(options.as_ref())?, &mut Scratch::default())
  })
}

/// Reads `options` and its `signal` for an async call.
fn async_options<'env>(
  options: Option<&Unknown<'env>>,
) -> Result<(Option<Object<'env>>, Option<abort::Signal<'env>>)> {
  let options = args::options(options, "options")?;
  let signal = match &options {
    Some(o) => args::field(o, "signal")?
      .map(|s| abort::Signal::from_option(&s))
      .transpose()?,
    None => None,
  };
  Ok((options, signal))
}

/// Hashes a password with argon2id and returns its PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), computed on rampart's hashing pool.
/// Rejects with `ERR_BUSY` when the pool's queue is full.
#[napi(
  catch_unwind,
  ts_args_type = "password: string | Uint8Array, options?: HashPasswordOptions",
  ts_return_type = "Promise<string>"
)]
pub fn hash_password<'env>(
  env: &'env Env,
  password: Unknown<'env>,
  options: Option<Unknown<'env>>,
) -> napi::Result<Object<'env>> {
  run_async(env, options, |o| hash_job(&password, o), HashJob::run)
}

/// `hashPassword` on the calling thread. Blocks the event loop for the whole hash (milliseconds):
/// for scripts and tests, not for request handlers.
#[napi(
  catch_unwind,
  ts_args_type = "password: string | Uint8Array, options?: Omit<HashPasswordOptions, 'signal'>"
)]
pub fn hash_password_sync(
  env: Env,
  password: Unknown,
  options: Option<Unknown>,
) -> napi::Result<String> {
  run_sync(&env, options, |o| hash_job(&password, o), HashJob::run)
}

/// Checks a password against a stored argon2 (`$argon2id$`, `$argon2i$`, `$argon2d$`) or bcrypt
/// (`$2a$`, `$2b$`, `$2y$`) hash. Resolves `false` for a wrong password; rejects with
/// `ERR_HASH_FORMAT` for a malformed hash and `ERR_HASH_PARAMS` for one above the cost bounds.
#[napi(
  catch_unwind,
  ts_args_type = "hash: string, password: string | Uint8Array, options?: VerifyPasswordOptions",
  ts_return_type = "Promise<boolean>"
)]
pub fn verify_password<'env>(
  env: &'env Env,
  hash: Unknown<'env>,
  password: Unknown<'env>,
  options: Option<Unknown<'env>>,
) -> napi::Result<Object<'env>> {
  run_async(
    env,
    options,
    |o| verify_job(&hash, &password, o),
    VerifyJob::run,
  )
}

/// `verifyPassword` on the calling thread. Blocks the event loop for the whole hash.
#[napi(
  catch_unwind,
  ts_args_type = "hash: string, password: string | Uint8Array, options?: Omit<VerifyPasswordOptions, 'signal'>"
)]
pub fn verify_password_sync(
  env: Env,
  hash: Unknown,
  password: Unknown,
  options: Option<Unknown>,
) -> napi::Result<bool> {
  run_sync(
    &env,
    options,
    |o| verify_job(&hash, &password, o),
    VerifyJob::run,
  )
}

/// True when a stored hash should be replaced at the next successful login: it is bcrypt, not
/// argon2id v19, or weaker than `options` (default: rampart's defaults) in memory or passes,
/// or has a salt under 16 or a hash under 32 bytes. Stronger hashes are left alone.
#[napi(
  catch_unwind,
  ts_args_type = "hash: string, options?: Pick<HashPasswordOptions, 'memoryCost' | 'timeCost' | 'parallelism'>"
)]
pub fn needs_rehash(env: Env, hash: Unknown, options: Option<Unknown>) -> napi::Result<bool> {
  error::run(&env, || {
    let encoded = args::string(&hash, "hash")?;
    let options = args::options(options.as_ref(), "options")?;
    kdf::needs_rehash(&encoded, hash_options(options.as_ref())?.params()?)
  })
}

fn stats_to_js(stats: pool::Stats) -> PasswordPoolStats {
  let clamp = opts::clamp_u32;
  PasswordPoolStats {
    threads: clamp(stats.config.threads),
    max_queue: clamp(stats.config.max_queue),
    running: clamp(stats.running),
    queued: clamp(stats.queued),
    completed: stats.completed as f64,
    rejected: stats.rejected as f64,
  }
}

/// Changes the hashing pool (process-wide, shared by all worker threads) and returns its state.
#[napi(catch_unwind, ts_args_type = "options: PasswordPoolOptions")]
pub fn configure_password_pool(env: Env, options: Unknown) -> napi::Result<PasswordPoolStats> {
  error::run(&env, || {
    let options = args::options(Some(&options), "options")?;
    let u32_of = |key, (min, max): (u32, u32)| args::opt_u32(options.as_ref(), key, min, max);
    let settings = PoolOptions {
      threads: u32_of("threads", opts::POOL_THREADS)?,
      max_queue: u32_of("maxQueue", opts::POOL_MAX_QUEUE)?,
    };
    let stats = pool::global().configure(settings.threads(), settings.max_queue());
    Ok(stats_to_js(stats))
  })
}

/// The hashing pool's settings and counters.
#[napi(catch_unwind)]
pub fn password_pool_stats(env: Env) -> napi::Result<PasswordPoolStats> {
  error::run(&env, || Ok(stats_to_js(pool::global().stats())))
}
