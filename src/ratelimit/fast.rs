//! The fast path behind the JS wrapper's `hit`/`peek`: a tagged handle instead of a class method,
//! and results left in scratch memory instead of returned as an object.
//!
//! Profiled on a hot key, napi-rs's class-method machinery (class identity registry, borrow
//! tracking with an allocation per call) took about a quarter of a hit, so `hit` and `peek` are
//! functions bound to the table (`src/bound.rs`), each holding its own `Arc` of it.
//!
//! Returning a result object from native code costs about twice the rest of a hit, and passing
//! an output typed array costs three N-API calls to check it on every hit. So each JS thread gets
//! three `f64` cells allocated here once, shown to JavaScript as one external `ArrayBuffer` (a
//! `Float64Array` over it in js/index.js), and `_hit`/`_peek` store
//! `[remaining, resetMs, retryAfterMs]` there before returning `allowed`.
//!
//! Soundness: the cells are leaked (`'static`): whatever JavaScript does with the ArrayBuffer
//! (detach it, transfer it to another thread, let it be collected), the memory Rust writes stays
//! allocated, and N-API is given no finalizer, so nothing ever frees it. Rust only ever stores
//! into it through atomics, so even a JS thread reading a transferred copy concurrently is not a
//! data race on the Rust side. The ArrayBuffer is created once per thread and environment (V8
//! refuses two ArrayBuffers over the same memory), and handed out again from a reference.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::sys;
use napi::Env;

use super::table::Table;
use crate::bound::Method;
use crate::error::{Code, Error, Result};

struct Scratch {
  cells: &'static [AtomicU64; 3],
  env: sys::napi_env,
  buffer: sys::napi_ref,
}

thread_local! {
  static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Stores the three numbers of a result where this thread's wrapper reads them (a no-op before
/// the wrapper asked for the memory).
pub fn write(values: [f64; 3]) {
  SCRATCH.with(|scratch| {
    if let Some(scratch) = scratch.borrow().as_ref() {
      for (cell, value) in scratch.cells.iter().zip(values) {
        cell.store(value.to_bits(), Ordering::Relaxed);
      }
    }
  });
}

fn failed() -> Error {
  Error::new(
    Code::Internal,
    "could not create the rate-limit result memory",
  )
}

/// This thread's scratch memory as an `ArrayBuffer` of 24 bytes (always the same one).
pub fn array_buffer(env: &Env) -> Result<Unknown<'_>> {
  let raw_env = env.raw();
  let value = SCRATCH.with(|scratch| -> Result<sys::napi_value> {
    let mut scratch = scratch.borrow_mut();
    if let Some(existing) = scratch.as_ref() {
      if existing.env != raw_env {
        // A second N-API environment on this thread: it keeps the object results.
        return Err(failed());
      }
      let mut value = std::ptr::null_mut();
      // SAFETY: `existing.buffer` is a strong reference created in this environment (checked
      // above) and not deleted while the environment lives (the cleanup hook clears it).
      let status = unsafe { sys::napi_get_reference_value(raw_env, existing.buffer, &mut value) };
      return (status == sys::Status::napi_ok && !value.is_null())
        .then_some(value)
        .ok_or_else(failed);
    }
    let cells: &'static [AtomicU64; 3] = Box::leak(Box::new([const { AtomicU64::new(0) }; 3]));
    let mut value = std::ptr::null_mut();
    // SAFETY: `cells` is 24 bytes that live for the rest of the process (leaked above) and are
    // never handed to N-API again, so V8 gets one ArrayBuffer over them; without a finalizer
    // nothing frees them. Writes from Rust go through atomics (see the module comment).
    let status = unsafe {
      sys::napi_create_external_arraybuffer(
        raw_env,
        cells.as_ptr().cast_mut().cast(),
        std::mem::size_of::<[AtomicU64; 3]>(),
        None,
        std::ptr::null_mut(),
        &mut value,
      )
    };
    if status != sys::Status::napi_ok {
      // Some runtimes refuse external buffers (e.g. a V8 sandbox): the wrapper falls back.
      return Err(failed());
    }
    let mut buffer = std::ptr::null_mut();
    // SAFETY: `value` is the ArrayBuffer just created in this handle scope.
    if unsafe { sys::napi_create_reference(raw_env, value, 1, &mut buffer) } != sys::Status::napi_ok
    {
      return Err(failed());
    }
    // SAFETY: the hook runs on this thread when the environment is torn down; it only clears
    // the thread-local (the reference dies with the environment).
    unsafe { sys::napi_add_env_cleanup_hook(raw_env, Some(forget), std::ptr::null_mut()) };
    *scratch = Some(Scratch {
      cells,
      env: raw_env,
      buffer,
    });
    Ok(value)
  })?;
  // SAFETY: `value` is a live `napi_value` of the current handle scope.
  unsafe { Unknown::from_napi_value(raw_env, value) }.map_err(|_| failed())
}

unsafe extern "C" fn forget(_: *mut std::ffi::c_void) {
  let _ = SCRATCH.try_with(|scratch| scratch.borrow_mut().take());
}

/// `hit` bound to one table (see `src/bound.rs`): call as `f(key, cost)`; returns `allowed` and
/// leaves the other numbers in this thread's scratch memory.
pub struct Hit;
/// `peek`, the same way.
pub struct Peek;

impl Method for Hit {
  type Data = Arc<Table>;
  const NAME: &'static str = "hit";
  fn call<'env>(
    table: &Arc<Table>,
    env: &'env Env,
    [key, cost]: &[Unknown<'env>; 2],
  ) -> Result<sys::napi_value> {
    boolean(env, super::apply_fast(table, key, cost, true)?)
  }
}

impl Method for Peek {
  type Data = Arc<Table>;
  const NAME: &'static str = "peek";
  fn call<'env>(
    table: &Arc<Table>,
    env: &'env Env,
    [key, cost]: &[Unknown<'env>; 2],
  ) -> Result<sys::napi_value> {
    boolean(env, super::apply_fast(table, key, cost, false)?)
  }
}

fn boolean(env: &Env, value: bool) -> Result<sys::napi_value> {
  let mut out = std::ptr::null_mut();
  // SAFETY: a live environment and a valid out-pointer.
  let status = unsafe { sys::napi_get_boolean(env.raw(), value, &mut out) };
  (status == sys::Status::napi_ok)
    .then_some(out)
    .ok_or_else(failed)
}
