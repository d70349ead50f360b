//! Strings across the boundary (log lines, JWT payloads) with one copy per direction. Reading a
//! JS string as UTF-8 (napi-rs's `String`) costs V8 two passes that transcode character by
//! character (a length pass, then the write); for a 1 KiB line that was most of the call. Here the string is copied out as
//! UTF-16 (its length is known without a pass, and for the usual one-byte string the copy is a
//! plain widening loop) and narrowed to bytes when it is ASCII, the common case for log lines;
//! otherwise it is transcoded in Rust (lone surrogates become U+FFFD, as in napi-rs). A result
//! that is ASCII is created as a Latin-1 string, which V8 copies without decoding.

use std::ptr;

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env, JsValue};

/// The contents of the JS string `value` as UTF-8, or `None` if the engine refuses (only while
/// shutting down; the caller has checked that `value` is a string).
pub fn read(value: &Unknown<'_>) -> Option<String> {
  let wide = read_utf16(value)?;
  if wide.iter().fold(0u16, |acc, &unit| acc | unit) < 0x80 {
    let narrow: Vec<u8> = wide.iter().map(|&unit| unit as u8).collect();
    return String::from_utf8(narrow).ok();
  }
  Some(String::from_utf16_lossy(&wide))
}

/// The contents of the JS string `value` as UTF-16 units, copied as they are; `None` as for
/// [`read`].
pub fn read_utf16(value: &Unknown<'_>) -> Option<Vec<u16>> {
  let mut wide = Vec::new();
  append_utf16(value, &mut wide).then_some(wide)
}

/// Appends the UTF-16 units of the JS string `value` to `wide` (the log writer gathers lines in
/// one buffer, which it recycles: a fresh allocation per call cost more than the copy).
pub fn append_utf16(value: &Unknown<'_>, wide: &mut Vec<u16>) -> bool {
  let env = value.value().env;
  let raw = value.raw();
  let mut len = 0usize;
  // SAFETY: `env` and `raw` come from `value`, an argument of the current call, so both are valid
  // in the current handle scope. With a null buffer, N-API only stores the length (in UTF-16
  // units) into `len`, a valid `usize`.
  let status = unsafe { sys::napi_get_value_string_utf16(env, raw, ptr::null_mut(), 0, &mut len) };
  if status != sys::Status::napi_ok {
    return false;
  }
  let start = wide.len();
  wide.reserve(len + 1);
  let mut written = 0usize;
  // SAFETY: as above for `env`/`raw`. `wide` has room for at least `len + 1` units after its
  // `start` initialized ones, and that is the size passed with a pointer to the first free
  // unit, so N-API writes at most that many there (the string and a terminating NUL) and stores
  // the number of string units written (at most `len`) in `written`; units up to
  // `start + written` are then initialized, so `set_len(start + written)` is sound.
  unsafe {
    let status = sys::napi_get_value_string_utf16(
      env,
      raw,
      wide.as_mut_ptr().add(start),
      len + 1,
      &mut written,
    );
    if status != sys::Status::napi_ok || written > len {
      return false;
    }
    wide.set_len(start + written);
  }
  true
}

/// A JS string holding `text`: created as Latin-1 (a plain copy in V8) when it is ASCII.
pub fn create<'env>(env: &'env Env, text: &str) -> napi::Result<Unknown<'env>> {
  if !text.is_ascii() {
    return napi::bindgen_prelude::ToNapiValue::into_unknown(text, env);
  }
  let mut raw = ptr::null_mut();
  // SAFETY: `env` is the live environment of the current call; `text` is valid for `text.len()`
  // bytes (ASCII, hence Latin-1) and N-API copies them before returning; `raw` is a valid place
  // for the result.
  let status = unsafe {
    sys::napi_create_string_latin1(
      env.raw(),
      text.as_ptr().cast(),
      text.len() as isize,
      &mut raw,
    )
  };
  if status != sys::Status::napi_ok {
    return Err(napi::Error::new(
      napi::Status::GenericFailure,
      "could not create a string",
    ));
  }
  // SAFETY: `raw` is the string N-API just created in the current scope.
  Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), raw) })
}
