//! Hot methods as plain JS functions bound to native state, for the calls made on every request
//! (`RateLimiter` hit/peek, `JwtVerifier` verify, `Redactor` redactJson/redactText).
//!
//! A napi-rs class method pays for its machinery on every call: the class identity check, and a
//! borrow-tracking scope with a global lock and an allocation. Measured on this machine
//! (2026-12-05, Node 20): a class getter returning a number took ~360 ns, while a bound `hit`
//! (a string argument, a table lookup and the GCRA step) took ~135 ns. A bound function is made
//! once, with `napi_create_function`, and carries its state as the callback data: no `this`, no
//! unwrapping and no type check are needed, because the data pointer is set here and nowhere
//! else. The state is shared (`Arc`/`Rc`) with the class instance, so each stays valid whatever
//! happens to the other.
//!
//! These callbacks are outside napi-rs, so the binding convention is applied here by hand: the
//! arguments are read with `args.rs` in [`Method::call`], a panic is caught and becomes
//! `ERR_INTERNAL`, and an error is thrown through `src/error.rs`.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::{sys, Env, JsValue};

use crate::error::{Code, Error, Result};

/// Most arguments a bound method reads (missing ones are `undefined`, extra ones ignored).
const MAX_ARGS: usize = 2;

/// One hot method: its JS name, the state it is bound to, and its body.
pub trait Method {
  /// The state the function carries (dropped when the function is collected).
  type Data: 'static;
  const NAME: &'static str;
  /// The body: `args` has `MAX_ARGS` values (`undefined` where the caller passed fewer).
  fn call<'env>(
    data: &Self::Data,
    env: &'env Env,
    args: &[Unknown<'env>; MAX_ARGS],
  ) -> Result<sys::napi_value>;
}

fn failed(what: &str) -> Error {
  Error::new(Code::Internal, format!("could not create {what}"))
}

/// A JS function that runs `M::call` with `data`.
pub fn function<M: Method>(env: &Env, data: M::Data) -> Result<Unknown<'_>> {
  let raw_env = env.raw();
  let data = Box::into_raw(Box::new(data));
  let mut function = std::ptr::null_mut();
  // SAFETY: a live environment, a name with its byte length, a callback with N-API's signature,
  // and `data`, a leaked Box that the finalizer added below reclaims.
  let status = unsafe {
    sys::napi_create_function(
      raw_env,
      M::NAME.as_ptr().cast(),
      M::NAME.len() as isize,
      Some(callback::<M>),
      data.cast(),
      &mut function,
    )
  };
  if status != sys::Status::napi_ok {
    // SAFETY: no function owns `data`: reclaim it here.
    drop(unsafe { Box::from_raw(data) });
    return Err(failed(M::NAME));
  }
  // SAFETY: `function` is live; the finalizer runs once, when it is collected, after which no
  // call of it can run, and is then the only owner of `data`.
  let status = unsafe {
    sys::napi_add_finalizer(
      raw_env,
      function,
      data.cast(),
      Some(drop_data::<M::Data>),
      std::ptr::null_mut(),
      std::ptr::null_mut(),
    )
  };
  if status != sys::Status::napi_ok {
    // The function exists but would leak its data; refuse it (the data stays reachable from the
    // function object, which is about to become garbage: leaking it is the safe side).
    return Err(failed(M::NAME));
  }
  // SAFETY: `function` is a live `napi_value` of the current handle scope.
  unsafe { Unknown::from_napi_value(raw_env, function) }.map_err(|_| failed(M::NAME))
}

unsafe extern "C" fn drop_data<D>(_: sys::napi_env, data: *mut c_void, _: *mut c_void) {
  // SAFETY: `data` is the `Box<D>` leaked in `function` for this `D`; N-API calls the finalizer
  // once.
  drop(unsafe { Box::from_raw(data.cast::<D>()) });
}

/// Every bound function's N-API callback: reads the arguments and the data, runs the body with
/// panics caught, and returns its value or throws its error.
unsafe extern "C" fn callback<M: Method>(
  raw_env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let env = Env::from_raw(raw_env);
  let mut argc = MAX_ARGS;
  let mut argv = [std::ptr::null_mut(); MAX_ARGS];
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
  let run = || -> Result<sys::napi_value> {
    if status != sys::Status::napi_ok || data.is_null() {
      return Err(failed(M::NAME));
    }
    // SAFETY: `data` is the `M::Data` given to `function` for this function (only `function`
    // creates functions with this callback); the function is being called, so it has not been
    // collected and its finalizer has not run.
    let data: &M::Data = unsafe { &*data.cast::<M::Data>() };
    // SAFETY: every entry of `argv` is a live `napi_value` of this call (N-API set them all).
    let args = argv.map(|value| unsafe { Unknown::from_raw_unchecked(raw_env, value) });
    M::call(data, &env, &args)
  };
  let result = catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
    Err(Error::new(
      Code::Internal,
      "rampart hit an internal error (a bug; please report it)",
    ))
  });
  match result {
    Ok(value) => value,
    Err(error) => {
      if let Ok(object) = error.to_js(&env) {
        // SAFETY: `object` is a live error object of this call; returning null after throwing
        // is how an N-API callback reports the exception.
        unsafe { sys::napi_throw(raw_env, object.raw()) };
      }
      std::ptr::null_mut()
    }
  }
}
