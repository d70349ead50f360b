//! Every failure rampart reports, and the one place where it becomes a JavaScript error.
//!
//! Rust code returns [`Error`] (a stable [`Code`] plus a message); bindings turn it into a JS
//! `Error`, `TypeError` or `RangeError` whose `code` property is the stable string. Messages are
//! written here or at the call site and never include a password, key, secret or token: callers
//! describe *what* was wrong (which argument, which bound), never the value itself.

// The fuzz crate (fuzz/) compiles this file without napi (cargo fuzz sets `--cfg fuzzing`):
// everything that touches JavaScript is behind `#[cfg(not(fuzzing))]`.
#[cfg(not(fuzzing))]
use napi::bindgen_prelude::{JsObjectValue, Object};
#[cfg(not(fuzzing))]
use napi::{Env, JsRangeError, JsTypeError, JsValue, Status};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The stable error codes. The strings are part of the public API (documented in docs/errors.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
  /// An argument or option has the wrong JavaScript type (`TypeError`).
  InvalidArgType,
  /// An argument or option has the right type but a value that cannot be used (`TypeError`).
  InvalidArgValue,
  /// An argument or option is a number or length outside its allowed range (`RangeError`).
  OutOfRange,
  /// A stored password hash is not a well-formed PHC or bcrypt string.
  HashFormat,
  /// A stored password hash asks for more memory, time or parallelism than allowed.
  HashParams,
  /// A bcrypt hash was checked against a password longer than bcrypt's 72 bytes (`RangeError`).
  BcryptTooLong,
  /// The password-hashing queue is full; retry later (map to HTTP 503 or 429).
  Busy,
  /// A ciphertext names a key id the keyring does not hold.
  KeyNotFound,
  /// A ciphertext failed to decrypt: tampered, truncated, wrong context or wrong key. Opaque on
  /// purpose: the reason is not revealed.
  Decrypt,
  /// A key reached its encryption limit (random nonces); rotate to a new primary key.
  KeyLimit,
  /// A token is not a well-formed compact JWS/JWT (segments, base64url, JSON, size).
  JwtMalformed,
  /// A token's `alg` is `none`, not in `algorithms`, or not the key's kind.
  JwtAlgNotAllowed,
  /// A token's signature does not verify.
  JwtSignatureInvalid,
  /// A token's `exp` has passed (or its age is over `maxAge`).
  JwtExpired,
  /// A token's `nbf` is still in the future.
  JwtNotYetValid,
  /// A claim is missing, of the wrong type or not the expected value (see `claim`).
  JwtClaimInvalid,
  /// No key matches the token's `kid`.
  JwtKeyNotFound,
  /// The operation was cancelled through its `AbortSignal` (name `AbortError`).
  Aborted,
  /// A log writer could not open or write its destination, or was used after `close()`.
  LogWrite,
  /// Something that should not happen (out of memory, a closed pool); a bug report is welcome.
  Internal,
}

/// Which JavaScript constructor an error is created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
  Error,
  TypeError,
  RangeError,
}

impl Code {
  pub const fn as_str(self) -> &'static str {
    match self {
      Code::InvalidArgType => "ERR_INVALID_ARG_TYPE",
      Code::InvalidArgValue => "ERR_INVALID_ARG_VALUE",
      Code::OutOfRange => "ERR_OUT_OF_RANGE",
      Code::HashFormat => "ERR_HASH_FORMAT",
      Code::HashParams => "ERR_HASH_PARAMS",
      Code::BcryptTooLong => "ERR_BCRYPT_TOO_LONG",
      Code::Busy => "ERR_BUSY",
      Code::KeyNotFound => "ERR_KEY_NOT_FOUND",
      Code::Decrypt => "ERR_DECRYPT",
      Code::KeyLimit => "ERR_KEY_LIMIT",
      Code::JwtMalformed => "ERR_JWT_MALFORMED",
      Code::JwtAlgNotAllowed => "ERR_JWT_ALG_NOT_ALLOWED",
      Code::JwtSignatureInvalid => "ERR_JWT_SIGNATURE_INVALID",
      Code::JwtExpired => "ERR_JWT_EXPIRED",
      Code::JwtNotYetValid => "ERR_JWT_NOT_YET_VALID",
      Code::JwtClaimInvalid => "ERR_JWT_CLAIM_INVALID",
      Code::JwtKeyNotFound => "ERR_JWT_KEY_NOT_FOUND",
      Code::Aborted => "ABORT_ERR",
      Code::LogWrite => "ERR_LOG_WRITE",
      Code::Internal => "ERR_INTERNAL",
    }
  }

  const fn kind(self) -> Kind {
    match self {
      Code::InvalidArgType | Code::InvalidArgValue => Kind::TypeError,
      Code::OutOfRange | Code::BcryptTooLong => Kind::RangeError,
      _ => Kind::Error,
    }
  }
}

/// A failure with a stable code. Cheap to build, `Send`, and free of JavaScript handles, so it
/// can be created on any thread and turned into a JS value later on the JS thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
  pub code: Code,
  pub message: String,
  /// For `ERR_JWT_CLAIM_INVALID`: the claim's name, set as `error.claim`.
  pub claim: Option<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

/// A synchronous binding's result: a rampart error becomes the JS error it throws.
#[cfg(not(fuzzing))]
pub fn throw<T>(env: &Env, result: Result<T>) -> napi::Result<T> {
  result.map_err(|e| e.into_napi(env))
}

/// Runs `f` and turns a panic into `ERR_INTERNAL`, so no panic unwinds into Node-API (which
/// would abort the process). Safe to call on any thread.
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
  catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
    Err(Error::new(
      Code::Internal,
      "rampart hit an internal error (a bug; please report it)",
    ))
  })
}

/// The body of a synchronous export: [`guard`], then [`throw`]. See the convention in lib.rs.
#[cfg(not(fuzzing))]
pub fn run<T>(env: &Env, f: impl FnOnce() -> Result<T>) -> napi::Result<T> {
  throw(env, guard(f))
}

/// A failed Node-API call inside an export (allocation, a property the engine refused), as an
/// `ERR_INTERNAL` error; a pending JS exception it left is cleared so this error is the only one.
#[cfg(not(fuzzing))]
pub fn internal(env: &Env, what: &str) -> Error {
  crate::args::clear_exception(env.raw());
  Error::new(Code::Internal, format!("could not {what}"))
}

impl Error {
  pub fn new(code: Code, message: impl Into<String>) -> Self {
    Error {
      code,
      message: message.into(),
      claim: None,
    }
  }

  /// `ERR_JWT_CLAIM_INVALID` for `claim`.
  pub fn claim(claim: &str, problem: impl std::fmt::Display) -> Self {
    Error::with_claim(
      Code::JwtClaimInvalid,
      claim,
      format!("The \"{claim}\" claim {problem}"),
    )
  }

  /// An error about one claim (`error.claim` is set to its name).
  pub fn with_claim(code: Code, claim: &str, message: impl Into<String>) -> Self {
    Error {
      code,
      message: message.into(),
      claim: Some(claim.to_owned()),
    }
  }

  /// `The "name" argument must be <expected>. Received <type>`: Node's wording, without the
  /// value (it may be a secret).
  pub fn arg_type(name: &str, expected: &str, received: &str) -> Self {
    Error::new(
      Code::InvalidArgType,
      format!("The \"{name}\" argument must be {expected}. Received {received}"),
    )
  }

  /// `The "name" argument <problem>`, for values of the right type that cannot be used.
  pub fn arg_value(name: &str, problem: impl std::fmt::Display) -> Self {
    Error::new(
      Code::InvalidArgValue,
      format!("The \"{name}\" argument {problem}"),
    )
  }

  pub fn out_of_range(name: &str, rule: impl std::fmt::Display) -> Self {
    Error::new(
      Code::OutOfRange,
      format!("The value of \"{name}\" is out of range. It must be {rule}"),
    )
  }

  #[cfg(not(fuzzing))]
  /// Builds the JavaScript error object: the right constructor, `code` set, and for
  /// [`Code::Aborted`] the name `AbortError` that `AbortSignal` users test for.
  pub fn to_js<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
    let base = napi::Error::new(self.code.as_str(), self.message.clone());
    let value = match self.code.kind() {
      Kind::TypeError => JsTypeError::from(base).into_unknown(*env),
      Kind::RangeError => JsRangeError::from(base).into_unknown(*env),
      Kind::Error => napi::JsError::from(base).into_unknown(*env),
    };
    let mut object = value.coerce_to_object()?;
    if self.code == Code::Aborted {
      object.set_named_property("name", "AbortError")?;
    }
    if let Some(claim) = &self.claim {
      object.set_named_property("claim", claim.as_str())?;
    }
    Ok(object)
  }

  #[cfg(not(fuzzing))]
  /// Converts to the `napi::Error` a synchronous binding returns, so that the JS caller gets the
  /// exact object built by [`Error::to_js`] (constructor, `code`, `claim`).
  pub fn into_napi(self, env: &Env) -> napi::Error {
    // On wasm, napi-rs keeps no reference to an error object (it rebuilds a plain `Error` from
    // the message), so the object is thrown here and the binding reports the pending exception.
    #[cfg(target_family = "wasm")]
    if let Ok(object) = self.to_js(env) {
      if env.throw(object).is_ok() {
        return napi::Error::new(Status::PendingException, self.message);
      }
    }
    self.into_rejection(env)
  }

  #[cfg(not(fuzzing))]
  /// Converts to the `napi::Error` a promise is rejected with.
  pub fn into_rejection(self, env: &Env) -> napi::Error {
    // On wasm napi-rs cannot reject with an object (it rebuilds a plain `Error` whose `code` is
    // "GenericFailure" from the message), so the class and code travel in a prefix of the
    // message, which the package entry (js/wasm-errors.js) turns back into the same object.
    #[cfg(target_family = "wasm")]
    {
      let _ = env;
      napi::Error::new(Status::GenericFailure, self.tagged_message())
    }
    #[cfg(not(target_family = "wasm"))]
    match self.to_js(env) {
      Ok(object) => napi::Error::from(object.to_unknown()),
      // Only reachable while the environment is shutting down.
      Err(_) => napi::Error::new(Status::GenericFailure, self.message),
    }
  }

  /// `[rampart:<code>:<class>] <message>`: how a rejection carries its code and class on wasm
  /// (see `into_rejection`). js/wasm-errors.js reads exactly this shape. Used on wasm only;
  /// tested on every target.
  #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
  pub fn tagged_message(&self) -> String {
    let class = match self.code.kind() {
      Kind::TypeError => "TypeError",
      Kind::RangeError => "RangeError",
      Kind::Error => "Error",
    };
    format!("[rampart:{}:{class}] {}", self.code.as_str(), self.message)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn codes_are_stable_strings() {
    assert_eq!(Code::InvalidArgType.as_str(), "ERR_INVALID_ARG_TYPE");
    assert_eq!(Code::OutOfRange.as_str(), "ERR_OUT_OF_RANGE");
    assert_eq!(Code::HashFormat.as_str(), "ERR_HASH_FORMAT");
    assert_eq!(Code::HashParams.as_str(), "ERR_HASH_PARAMS");
    assert_eq!(Code::Busy.as_str(), "ERR_BUSY");
    assert_eq!(Code::Aborted.as_str(), "ABORT_ERR");
  }

  #[test]
  fn tagged_messages_carry_code_and_class() {
    let e = Error::arg_type("password", "of type string", "type number");
    assert_eq!(
      e.tagged_message(),
      "[rampart:ERR_INVALID_ARG_TYPE:TypeError] The \"password\" argument must be of type string. Received type number"
    );
    assert!(Error::out_of_range("n", ">= 1")
      .tagged_message()
      .starts_with("[rampart:ERR_OUT_OF_RANGE:RangeError] "));
    assert!(Error::new(Code::Aborted, "The operation was aborted")
      .tagged_message()
      .starts_with("[rampart:ABORT_ERR:Error] "));
  }

  #[test]
  fn argument_errors_never_carry_the_value() {
    let e = Error::arg_type("password", "of type string", "type number");
    assert_eq!(e.code, Code::InvalidArgType);
    assert_eq!(
      e.message,
      "The \"password\" argument must be of type string. Received type number"
    );
  }
}
