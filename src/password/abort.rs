//! `AbortSignal` support for the async password calls.
//!
//! An aborted call rejects at once with an `AbortError` (`name: 'AbortError'`,
//! `code: 'ABORT_ERR'`, `cause: signal.reason`), like Node's own promise APIs. A job still queued
//! is then skipped; one already running on a pool thread finishes and its result is dropped.
//! The listener is removed again when the call settles, so one long-lived signal can be passed
//! to any number of calls.

use napi::bindgen_prelude::{FnArgs, Function, JsObjectValue, Object, Unknown};
use napi::{Env, JsValue, ValueType};

use crate::args;
use crate::error::{Code, Error, Result};

/// A JS function taking no arguments (the listener and the cleanup callback).
type Callback<'env> = Function<'env, (), ()>;
/// `signal.removeEventListener` and its `bind`, which fixes `this` and both arguments. A tuple
/// wrapped in `FnArgs` is passed as separate arguments; a bare tuple would be one array.
type BindArgs<'env> = FnArgs<(Object<'env>, &'static str, Callback<'env>)>;
type RemoveListener<'env> = Function<'env, BindArgs<'env>, ()>;
type BindRemove<'env> = Function<'env, BindArgs<'env>, Callback<'env>>;

/// A checked `options.signal`.
pub struct Signal<'env> {
  object: Object<'env>,
  /// `signal.aborted`, read once (a getter may answer differently on a second read).
  aborted: bool,
}

impl<'env> Signal<'env> {
  /// Accepts anything shaped like an `AbortSignal` (`aborted` flag and `addEventListener`).
  pub fn from_option(value: &Unknown<'env>) -> Result<Self> {
    let invalid = || {
      Error::arg_type(
        "options.signal",
        "an instance of AbortSignal",
        &args::describe(value),
      )
    };
    if args::type_of(value) != Some(ValueType::Object) {
      return Err(invalid());
    }
    let object = value.coerce_to_object().map_err(|_| invalid())?;
    let aborted = args::property(&object, "aborted", "options.signal.aborted")?;
    let add = args::property(&object, "addEventListener", "options.signal")?;
    if args::type_of(&aborted) != Some(ValueType::Boolean)
      || args::type_of(&add) != Some(ValueType::Function)
    {
      return Err(invalid());
    }
    let aborted = aborted.coerce_to_bool().map_err(|_| invalid())?;
    Ok(Signal { object, aborted })
  }

  /// The `AbortError` to reject with if the signal had fired when it was read.
  pub fn aborted_error(&self, env: &Env) -> Option<napi::Error> {
    if !self.aborted {
      return None;
    }
    let reason = args::property(&self.object, "reason", "options.signal.reason").ok();
    Some(
      abort_error(env, reason).unwrap_or_else(|_| {
        crate::error::internal(env, "build the AbortError").into_rejection(env)
      }),
    )
  }

  /// Calls `on_abort` with an `AbortError` if the signal fires before `promise` settles.
  pub fn watch(
    &self,
    env: &Env,
    promise: &Object<'env>,
    on_abort: impl Fn(napi::Error) + 'static,
  ) -> Result<()> {
    self.try_watch(env, promise, on_abort).map_err(|_| {
      args::clear_exception(env.raw());
      Error::arg_value(
        "options.signal",
        "could not be watched (addEventListener or removeEventListener threw)",
      )
    })
  }

  fn try_watch(
    &self,
    env: &Env,
    promise: &Object<'env>,
    on_abort: impl Fn(napi::Error) + 'static,
  ) -> napi::Result<()> {
    let listener = env.create_function_from_closure("onAbort", move |ctx| {
      let signal: Object = ctx.this()?;
      let reason: Unknown = signal.get_named_property("reason")?;
      on_abort(abort_error(ctx.env, Some(reason))?);
      Ok(())
    })?;
    let add: Function<FnArgs<(&str, Callback)>, ()> =
      self.object.get_named_property("addEventListener")?;
    add.apply(self.object, FnArgs::from(("abort", listener)))?;

    // promise.then(cleanup, cleanup) with cleanup = signal.removeEventListener.bind(signal,
    // 'abort', listener). Handling both outcomes keeps the derived promise from rejecting.
    let remove: RemoveListener = self.object.get_named_property("removeEventListener")?;
    let bind: BindRemove = remove
      .to_unknown()
      .coerce_to_object()?
      .get_named_property("bind")?;
    let cleanup = bind.apply(remove, FnArgs::from((self.object, "abort", listener)))?;
    let then: Function<FnArgs<(Callback, Callback)>, Unknown> =
      promise.get_named_property("then")?;
    then.apply(promise, FnArgs::from((cleanup, cleanup)))?;
    Ok(())
  }
}

/// `Error('The operation was aborted')` with `name: 'AbortError'`, `code: 'ABORT_ERR'` and the
/// signal's reason as `cause`.
fn abort_error(env: &Env, reason: Option<Unknown<'_>>) -> napi::Result<napi::Error> {
  // On wasm a rejection cannot carry an object: the tagged message instead (the package entry
  // rebuilds the AbortError, with the signal's reason as its cause).
  #[cfg(target_family = "wasm")]
  {
    let _ = reason;
    Ok(Error::new(Code::Aborted, "The operation was aborted").into_rejection(env))
  }
  #[cfg(not(target_family = "wasm"))]
  {
    let mut error = Error::new(Code::Aborted, "The operation was aborted").to_js(env)?;
    if let Some(reason) = reason {
      error.set_named_property("cause", reason)?;
    }
    Ok(napi::Error::from(error.to_unknown()))
  }
}
