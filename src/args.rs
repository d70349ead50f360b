//! Reading arguments and options that come from JavaScript.
//!
//! Exports take user input as `Unknown` and check it here, so every wrong type becomes a
//! `TypeError` with `code: 'ERR_INVALID_ARG_TYPE'` and every bad number a `RangeError` with
//! `code: 'ERR_OUT_OF_RANGE'`, instead of napi-rs's generic conversion errors. Nothing here
//! panics, whatever the input.

use napi::bindgen_prelude::{
  Array, FnArgs, FromNapiValue, Function, JsObjectValue, Object, Uint8ArraySlice, Unknown,
};
use napi::{Env, JsValue, ValueType};
use zeroize::Zeroizing;

use crate::error::{Code, Error, Result};

/// The JS type of a value (`None` only if the engine cannot tell, e.g. while shutting down).
pub fn type_of(value: &Unknown<'_>) -> Option<ValueType> {
  value.get_type().ok()
}

/// `"type number"`, `"null"`, `"an instance of Array"`: what was received, never the value.
pub fn describe(value: &Unknown<'_>) -> String {
  match value.get_type() {
    Ok(ValueType::Undefined) => "undefined".into(),
    Ok(ValueType::Null) => "null".into(),
    Ok(ValueType::Boolean) => "type boolean".into(),
    Ok(ValueType::Number) => "type number".into(),
    Ok(ValueType::String) => "type string".into(),
    Ok(ValueType::Symbol) => "type symbol".into(),
    Ok(ValueType::BigInt) => "type bigint".into(),
    Ok(ValueType::Function) => "type function".into(),
    Ok(ValueType::Object) => {
      if value.is_array().unwrap_or(false) {
        "an instance of Array".into()
      } else if value.is_typedarray().unwrap_or(false) {
        "a typed array other than Uint8Array".into()
      } else {
        "an instance of Object".into()
      }
    }
    _ => "an unsupported value".into(),
  }
}

fn is_nullish(value: &Unknown<'_>) -> bool {
  matches!(
    value.get_type(),
    Ok(ValueType::Undefined) | Ok(ValueType::Null)
  )
}

/// A string argument (as UTF-8) or a borrowed view of a `Buffer`/`Uint8Array`.
pub enum Bytes<'env> {
  Text(String),
  View(Uint8ArraySlice<'env>),
}

impl AsRef<[u8]> for Bytes<'_> {
  fn as_ref(&self) -> &[u8] {
    match self {
      Bytes::Text(text) => text.as_bytes(),
      Bytes::View(view) => view,
    }
  }
}

const BYTES_EXPECTED: &str = "of type string or an instance of Buffer or Uint8Array";

/// A string or the bytes of a `Buffer`/`Uint8Array`, without copying the bytes. The view is only
/// valid during the current call: copy before handing it to another thread.
///
/// Views of a `SharedArrayBuffer` are refused with `ERR_INVALID_ARG_TYPE`: another thread may
/// write that memory while Rust reads it as `&[u8]` (a data race, undefined behaviour), and a
/// copy would race the same way. Callers copy such data first (`Buffer.from(view)`).
pub fn bytes<'env>(value: &Unknown<'env>, name: &str) -> Result<Bytes<'env>> {
  match type_of(value) {
    Some(ValueType::String) => read_string(value).map(Bytes::Text),
    Some(ValueType::Object) if value.is_typedarray().unwrap_or(false) => {
      if is_shared_view(value) {
        return Err(Error::arg_type(
          name,
          BYTES_EXPECTED,
          "a view of a SharedArrayBuffer (copy it first, e.g. Buffer.from(view))",
        ));
      }
      // The conversion fails for typed arrays other than Uint8Array (Buffer is one).
      convert::<Uint8ArraySlice>(value)
        .map(Bytes::View)
        .map_err(|_| Error::arg_type(name, BYTES_EXPECTED, &describe(value)))
    }
    _ => Err(Error::arg_type(name, BYTES_EXPECTED, &describe(value))),
  }
}

/// True when a typed array's memory is a `SharedArrayBuffer` (or cannot be inspected: refused
/// then too, failing closed).
fn is_shared_view(value: &Unknown<'_>) -> bool {
  let env = value.value().env;
  let mut kind = 0;
  let mut length = 0;
  let mut data = std::ptr::null_mut();
  let mut buffer = std::ptr::null_mut();
  let mut offset = 0;
  let mut is_array_buffer = false;
  // SAFETY: `env` and `value.raw()` are valid for the current call (see `convert`); every out
  // pointer is a live local of the type the Node-API signature asks for. `napi_is_arraybuffer`
  // is false for a SharedArrayBuffer, which is what is tested here.
  unsafe {
    napi::sys::napi_get_typedarray_info(
      env,
      value.raw(),
      &mut kind,
      &mut length,
      &mut data,
      &mut buffer,
      &mut offset,
    ) != napi::sys::Status::napi_ok
      || napi::sys::napi_is_arraybuffer(env, buffer, &mut is_array_buffer)
        != napi::sys::Status::napi_ok
      || !is_array_buffer
  }
}

/// Clears the exception a throwing getter or Proxy trap left pending, so that the rampart error
/// that replaces it is the only one JavaScript sees (a pending exception would otherwise be
/// thrown as well, and an async call would leave its rejected promise unhandled).
pub fn clear_exception(env: napi::sys::napi_env) {
  let mut pending = false;
  let mut exception = std::ptr::null_mut();
  // SAFETY: `env` is the live environment of the current call; out pointers are locals.
  unsafe {
    if napi::sys::napi_is_exception_pending(env, &mut pending) == napi::sys::Status::napi_ok
      && pending
    {
      napi::sys::napi_get_and_clear_last_exception(env, &mut exception);
    }
  }
}

/// `obj[key]` as it is (also `undefined`/`null`). A getter or Proxy trap that throws gives a
/// `TypeError` with `ERR_INVALID_ARG_VALUE` naming `name`, and its exception is cleared.
pub fn property<'env>(obj: &Object<'env>, key: &str, name: &str) -> Result<Unknown<'env>> {
  obj.get_named_property(key).map_err(|_| {
    clear_exception(obj.value().env);
    Error::arg_value(name, "could not be read (a getter or Proxy trap threw)")
  })
}

/// Like [`bytes`], copied into memory that is wiped on drop (for passwords and keys). The copy
/// also means JavaScript cannot change the bytes while a worker thread reads them.
pub fn secret_bytes(value: &Unknown<'_>, name: &str) -> Result<Zeroizing<Vec<u8>>> {
  Ok(match bytes(value, name)? {
    Bytes::Text(text) => Zeroizing::new(text.into_bytes()),
    Bytes::View(view) => Zeroizing::new(view.to_vec()),
  })
}

/// Converts a JS value to a Rust type; the conversion checks the JS type and fails on mismatch.
fn convert<T: FromNapiValue>(value: &Unknown<'_>) -> napi::Result<T> {
  // SAFETY: `from_napi_value` needs a live `napi_env` and a `napi_value` valid in the current
  // handle scope. Both come from `value`, an `Unknown` borrowed for the duration of the call that
  // received it, so both are valid here. The implementations used in this module (String, f64,
  // bool, Uint8ArraySlice) validate the JS type themselves and return `Err` on a mismatch.
  unsafe { T::from_napi_value(value.value().env, value.raw()) }
}

/// Reads a JS string. Only fails for non-strings, which callers rule out first.
fn read_string(value: &Unknown<'_>) -> Result<String> {
  convert::<String>(value)
    .map_err(|_| Error::new(Code::Internal, "could not read a string argument"))
}

/// A required string argument of at most `MAX` UTF-8 bytes, copied into `buf` (no allocation:
/// for per-request keys). Returns the bytes written. Longer strings are a `RangeError`.
pub fn short_string<'b, const MAX: usize>(
  value: &Unknown<'_>,
  name: &str,
  buf: &'b mut ShortString<MAX>,
) -> Result<&'b [u8]> {
  let raw = value.value();
  let mut written = 0usize;
  // SAFETY: `raw.env` and `raw.value` come from an `Unknown` borrowed for the current call, so
  // they are valid in this handle scope. `buf.bytes` is a live, writable buffer of exactly the
  // length passed; N-API writes at most `len - 1` bytes plus a NUL and stores the count
  // (without the NUL) in `written`. A non-string returns `napi_string_expected`, writing nothing.
  let status = unsafe {
    napi::sys::napi_get_value_string_utf8(
      raw.env,
      raw.value,
      buf.bytes.as_mut_ptr().cast(),
      buf.bytes.len(),
      &mut written,
    )
  };
  if status != napi::sys::Status::napi_ok {
    return Err(Error::arg_type(name, "of type string", &describe(value)));
  }
  // N-API writes whole characters only, so a string over MAX bytes could stop short of MAX + 1
  // if its next character did not fit; the buffer has room for MAX + 4 bytes (the longest UTF-8
  // character), so any string longer than MAX bytes writes more than MAX.
  if written > MAX {
    return Err(Error::out_of_range(
      name,
      format!("at most {MAX} bytes long (UTF-8)"),
    ));
  }
  let written = written.min(buf.bytes.len() - 1);
  // SAFETY: N-API initialized the first `written` bytes of `buf.bytes` (it never reports more
  // than `len - 1`; the `min` above only restates that), and `buf` is borrowed for `'b`.
  Ok(unsafe { std::slice::from_raw_parts(buf.bytes.as_ptr().cast::<u8>(), written) })
}

/// The buffer [`short_string`] writes into: `MAX` bytes, one character of slack, the NUL.
/// Left uninitialized (only what N-API writes is ever read), so a call costs no memset.
pub struct ShortString<const MAX: usize> {
  bytes: [std::mem::MaybeUninit<u8>; SHORT_STRING_BUF],
}

const SHORT_STRING_BUF: usize = 1280;

impl<const MAX: usize> ShortString<MAX> {
  const FITS: () = assert!(
    MAX + 5 <= SHORT_STRING_BUF,
    "ShortString holds at most 1275 bytes"
  );

  pub fn new() -> Self {
    #[allow(clippy::let_unit_value)]
    let () = Self::FITS;
    ShortString {
      bytes: [const { std::mem::MaybeUninit::uninit() }; SHORT_STRING_BUF],
    }
  }
}

/// A number argument that must be an integer in `min..=max`; `undefined` means `default`.
pub fn opt_number_u32(
  value: &Unknown<'_>,
  name: &str,
  default: u32,
  min: u32,
  max: u32,
) -> Result<u32> {
  match type_of(value) {
    Some(ValueType::Undefined) => Ok(default),
    _ => number_u32(value, name, min, max),
  }
}

/// The JS `undefined`, for optional arguments that were left out.
pub fn undefined(env: &Env) -> Result<Unknown<'_>> {
  let mut value = std::ptr::null_mut();
  // SAFETY: `env` is the live environment of the current call and `value` a valid out-pointer.
  let status = unsafe { napi::sys::napi_get_undefined(env.raw(), &mut value) };
  if status != napi::sys::Status::napi_ok {
    return Err(Error::new(Code::Internal, "could not create undefined"));
  }
  // SAFETY: N-API returned a valid `napi_value` for the current handle scope.
  unsafe { Unknown::from_napi_value(env.raw(), value) }
    .map_err(|_| Error::new(Code::Internal, "could not create undefined"))
}

/// A required string argument.
pub fn string(value: &Unknown<'_>, name: &str) -> Result<String> {
  match value.get_type() {
    Ok(ValueType::String) => read_string(value),
    _ => Err(Error::arg_type(name, "of type string", &describe(value))),
  }
}

/// The elements of an array argument (at most `max`).
pub fn array<'env>(value: &Unknown<'env>, name: &str, max: usize) -> Result<Vec<Unknown<'env>>> {
  if type_of(value) != Some(ValueType::Object) || !value.is_array().unwrap_or(false) {
    return Err(Error::arg_type(
      name,
      "an instance of Array",
      &describe(value),
    ));
  }
  let array = convert::<Array>(value)
    .map_err(|_| Error::new(Code::Internal, format!("could not read \"{name}\"")))?;
  let len = array.len() as usize;
  if len > max {
    return Err(Error::out_of_range(
      name,
      format!("an array of at most {max} elements"),
    ));
  }
  (0..array.len())
    .map(|i| match array.get::<Unknown>(i) {
      Ok(Some(element)) => Ok(element),
      _ => {
        clear_exception(value.value().env);
        Err(Error::arg_value(
          &format!("{name}[{i}]"),
          "could not be read (a getter or Proxy trap threw)",
        ))
      }
    })
    .collect()
}

/// A required object argument.
pub fn object<'env>(value: &Unknown<'env>, name: &str) -> Result<Object<'env>> {
  options(Some(value), name)?
    .ok_or_else(|| Error::arg_type(name, "of type object", &describe(value)))
}

/// An optional options object: `undefined`/`null` mean "none".
pub fn options<'env>(value: Option<&Unknown<'env>>, name: &str) -> Result<Option<Object<'env>>> {
  let Some(value) = value else { return Ok(None) };
  if is_nullish(value) {
    return Ok(None);
  }
  match value.get_type() {
    Ok(ValueType::Object) if !value.is_array().unwrap_or(false) => value
      .coerce_to_object()
      .map(Some)
      .map_err(|_| Error::new(Code::Internal, "could not read the options object")),
    _ => Err(Error::arg_type(name, "of type object", &describe(value))),
  }
}

/// Reads `obj[key]` as an `Unknown`, treating `undefined` and `null` as absent.
pub fn field<'env>(obj: &Object<'env>, key: &str) -> Result<Option<Unknown<'env>>> {
  let value = property(obj, key, &format!("options.{key}"))?;
  Ok(if is_nullish(&value) {
    None
  } else {
    Some(value)
  })
}

/// A required property: `obj[key]`, or `ERR_INVALID_ARG_TYPE` naming `name` when it is
/// `undefined`/`null` (`expected` says what it must be, e.g. "of type string").
pub fn required<'env>(
  obj: &Object<'env>,
  key: &str,
  name: &str,
  expected: &str,
) -> Result<Unknown<'env>> {
  let value = property(obj, key, name)?;
  if is_nullish(&value) {
    return Err(Error::arg_type(name, expected, &describe(&value)));
  }
  Ok(value)
}

/// An integer argument in `min..=max`.
pub fn number_u32(value: &Unknown<'_>, name: &str, min: u32, max: u32) -> Result<u32> {
  if type_of(value) != Some(ValueType::Number) {
    return Err(Error::arg_type(name, "of type number", &describe(value)));
  }
  let n = convert::<f64>(value)
    .map_err(|_| Error::new(Code::Internal, "could not read a number argument"))?;
  if n.fract() != 0.0 || !n.is_finite() || n < f64::from(min) || n > f64::from(max) {
    return Err(Error::out_of_range(
      name,
      format!("an integer >= {min} and <= {max}"),
    ));
  }
  Ok(n as u32)
}

/// An optional integer option in `min..=max`.
pub fn opt_u32(obj: Option<&Object<'_>>, key: &str, min: u32, max: u32) -> Result<Option<u32>> {
  let Some(obj) = obj else { return Ok(None) };
  match field(obj, key)? {
    None => Ok(None),
    Some(value) => number_u32(&value, &format!("options.{key}"), min, max).map(Some),
  }
}

/// An optional boolean option.
pub fn opt_bool(obj: Option<&Object<'_>>, key: &str) -> Result<Option<bool>> {
  let Some(obj) = obj else { return Ok(None) };
  let Some(value) = field(obj, key)? else {
    return Ok(None);
  };
  if type_of(&value) != Some(ValueType::Boolean) {
    let name = format!("options.{key}");
    return Err(Error::arg_type(&name, "of type boolean", &describe(&value)));
  }
  convert::<bool>(&value)
    .map(Some)
    .map_err(|_| Error::new(Code::Internal, "could not read a boolean option"))
}

/// An optional secret option (string, Buffer or Uint8Array).
pub fn opt_secret(obj: Option<&Object<'_>>, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
  let Some(obj) = obj else { return Ok(None) };
  match field(obj, key)? {
    None => Ok(None),
    Some(value) => secret_bytes(&value, &format!("options.{key}")).map(Some),
  }
}

/// A finite number argument in `min..=max`.
pub fn number_f64(value: &Unknown<'_>, name: &str, min: f64, max: f64) -> Result<f64> {
  if type_of(value) != Some(ValueType::Number) {
    return Err(Error::arg_type(name, "of type number", &describe(value)));
  }
  let n = convert::<f64>(value)
    .map_err(|_| Error::new(Code::Internal, "could not read a number argument"))?;
  if !n.is_finite() || n < min || n > max {
    return Err(Error::out_of_range(name, format!(">= {min} and <= {max}")));
  }
  Ok(n)
}

/// An optional string option.
pub fn opt_string(obj: &Object<'_>, key: &str) -> Result<Option<String>> {
  field(obj, key)?
    .map(|value| string(&value, &format!("options.{key}")))
    .transpose()
}

/// An optional option that is a string or an array of strings (at most `max`), as a list.
pub fn opt_strings(obj: &Object<'_>, key: &str, max: usize) -> Result<Option<Vec<String>>> {
  let name = format!("options.{key}");
  let Some(value) = field(obj, key)? else {
    return Ok(None);
  };
  if type_of(&value) == Some(ValueType::String) {
    return Ok(Some(vec![read_string(&value)?]));
  }
  if !value.is_array().unwrap_or(false) {
    return Err(Error::arg_type(
      &name,
      "of type string or an array of strings",
      &describe(&value),
    ));
  }
  array(&value, &name, max)?
    .iter()
    .enumerate()
    .map(|(i, item)| string(item, &format!("{name}[{i}]")))
    .collect::<Result<Vec<_>>>()
    .map(Some)
}

/// `JSON.stringify(value)` through the engine, so getters, `toJSON` and cycles behave exactly as
/// in JavaScript (a cycle throws the engine's own TypeError).
pub fn stringify(env: &Env, value: Unknown<'_>) -> napi::Result<Option<String>> {
  let json: Object = env.get_global()?.get_named_property("JSON")?;
  let function: Function<FnArgs<(Unknown,)>, Unknown> = json.get_named_property("stringify")?;
  let out = function.apply(json, FnArgs::from((value,)))?;
  if out.get_type()? != ValueType::String {
    return Ok(None);
  }
  // SAFETY: `out` is a string value in the current scope; String's conversion checks the type.
  unsafe { <String as napi::bindgen_prelude::FromNapiValue>::from_napi_value(env.raw(), out.raw()) }
    .map(Some)
}

/// `JSON.parse(text)` through the engine.
pub fn parse_json<'env>(env: &'env Env, text: &str) -> napi::Result<Unknown<'env>> {
  let json: Object = env.get_global()?.get_named_property("JSON")?;
  let function: Function<FnArgs<(&str,)>, Unknown> = json.get_named_property("parse")?;
  function.apply(json, FnArgs::from((text,)))
}
