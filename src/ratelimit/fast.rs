//! The fast path behind the JS wrapper's `hit`/`peek`: a tagged handle instead of a class method,
//! and results left in scratch memory instead of returned as an object.
//!
//! Profiled on a hot key, napi-rs's class-method machinery (class identity registry, borrow
//! tracking with an allocation per call) took about a quarter of a hit. The handle is a plain
//! object carrying the limiter's table, recognised by an N-API type tag (one call) and unwrapped
//! (one call); the object holds its own `Arc` of the table, so it stays valid whatever happens
//! to the class instance.
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
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::sys;
use napi::{Env, JsValue};

use super::table::Table;
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

/// `hit` or `peek` bound to one table: a JS function made with `napi_create_function`, whose
/// callback data is the table (no `this`, no unwrapping, no type check needed: the data pointer
/// is set here and nowhere else). Call as `f(key, cost)`; returns `allowed` and leaves the other
/// numbers in this thread's scratch memory.
pub fn bound(env: &Env, table: Arc<Table>, charge: bool) -> Result<Unknown<'_>> {
  let raw_env = env.raw();
  let (name, callback): (&str, sys::napi_callback) = if charge {
    ("hit", Some(hit_callback))
  } else {
    ("peek", Some(peek_callback))
  };
  let data = Box::into_raw(Box::new(table));
  let mut function = std::ptr::null_mut();
  // SAFETY: a live environment, a name with its byte length, a callback with N-API's signature,
  // and `data`, a leaked Box that the finalizer added below reclaims.
  let status = unsafe {
    sys::napi_create_function(
      raw_env,
      name.as_ptr().cast(),
      name.len() as isize,
      callback,
      data.cast(),
      &mut function,
    )
  };
  if status != sys::Status::napi_ok {
    // SAFETY: no function owns `data`: reclaim it here.
    drop(unsafe { Box::from_raw(data) });
    return Err(failed());
  }
  // SAFETY: `function` is live; the finalizer runs once, when it is collected, after which no
  // call of it can run, and is then the only owner of `data`.
  let status = unsafe {
    sys::napi_add_finalizer(
      raw_env,
      function,
      data.cast(),
      Some(drop_table),
      std::ptr::null_mut(),
      std::ptr::null_mut(),
    )
  };
  if status != sys::Status::napi_ok {
    // The function exists but would leak its table; refuse it (the data stays reachable from
    // the function object, which is about to become garbage: leaking one Arc is the safe side).
    return Err(failed());
  }
  // SAFETY: `function` is a live `napi_value` of the current handle scope.
  unsafe { Unknown::from_napi_value(raw_env, function) }.map_err(|_| failed())
}

unsafe extern "C" fn drop_table(_: sys::napi_env, data: *mut c_void, _: *mut c_void) {
  // SAFETY: `data` is the `Box<Arc<Table>>` leaked in `bound`; N-API calls this finalizer once.
  drop(unsafe { Box::from_raw(data.cast::<Arc<Table>>()) });
}

unsafe extern "C" fn hit_callback(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: called by N-API with its own live `env` and `info`.
  unsafe { callback(env, info, true) }
}

unsafe extern "C" fn peek_callback(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  // SAFETY: as above.
  unsafe { callback(env, info, false) }
}

/// The body of both callbacks: reads `(key, cost)`, applies, returns a boolean or throws.
/// Panics are caught here (this callback is outside napi-rs, so its `catch_unwind` does not
/// apply) and become `ERR_INTERNAL`.
unsafe fn callback(
  raw_env: sys::napi_env,
  info: sys::napi_callback_info,
  charge: bool,
) -> sys::napi_value {
  let env = Env::from_raw(raw_env);
  let mut argc = 2usize;
  let mut argv = [std::ptr::null_mut(); 2];
  let mut data = std::ptr::null_mut();
  // SAFETY: `info` is this call's; `argv` has room for `argc` values (N-API fills missing ones
  // with `undefined`).
  let status = unsafe {
    sys::napi_get_cb_info(
      raw_env,
      info,
      &mut argc,
      argv.as_mut_ptr(),
      std::ptr::null_mut(),
      &mut data,
    )
  };
  let run = || -> Result<bool> {
    if status != sys::Status::napi_ok || data.is_null() {
      return Err(failed());
    }
    // SAFETY: `data` is the `Arc<Table>` given to `bound` for this function; the function is
    // being called, so it has not been collected and its finalizer has not run.
    let table: &Table = unsafe { &*data.cast::<Arc<Table>>() };
    // SAFETY: both values are live `napi_value`s of this call.
    let key = unsafe { Unknown::from_napi_value(raw_env, argv[0]) }.map_err(|_| failed())?;
    let cost = unsafe { Unknown::from_napi_value(raw_env, argv[1]) }.map_err(|_| failed())?;
    super::apply_fast(table, &key, &cost, charge)
  };
  let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
    .unwrap_or_else(|_| Err(Error::new(Code::Internal, "rate limiter failed")));
  let mut value = std::ptr::null_mut();
  match result {
    Ok(allowed) => {
      // SAFETY: a live environment and a valid out-pointer.
      unsafe { sys::napi_get_boolean(raw_env, allowed, &mut value) };
    }
    Err(error) => {
      if let Ok(object) = error.to_js(&env) {
        // SAFETY: `object` is a live error object of this call; returning null after throwing
        // is how an N-API callback reports the exception.
        unsafe { sys::napi_throw(raw_env, object.raw()) };
      }
    }
  }
  value
}
