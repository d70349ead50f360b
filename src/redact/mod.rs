//! Log redaction bindings: the `Redactor` class. Rules are compiled once, in the constructor;
//! every call is one synchronous pass over a string (a log line costs less than a thread hop).

mod censor;
mod json;
mod patterns;
mod rules;

use std::rc::Rc;

use napi::bindgen_prelude::{Object, ToNapiValue, Unknown};
use napi::{sys, Env, JsValue, ValueType};
use napi_derive::napi;
use ring::hmac;

use crate::args::{self, Bytes};
use crate::bound;
use crate::error::{self, throw, Code, Error, Result};
use crate::text;
use censor::{Censor, Replacer};
use json::Policy;

/// Limits on what a `Redactor` is built from (documented in docs/redaction-rules.md): beyond
/// them the constructor throws a `RangeError`, so that building one is fast whatever it is given.
const MAX_RULES: usize = 1000;
const MAX_PATTERN_NAME_LEN: usize = 64;
const DEFAULT_MAX_LENGTH: u32 = 1024 * 1024;
const MAX_LENGTH: u32 = 64 * 1024 * 1024;
const MAX_CENSOR_LEN: usize = 256;

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct RedactorOptions {
  /// Member names redacted at any depth, matched ignoring case and separators (`apiKey` matches
  /// `X-Api-Key`, `api_key` and `userApiKey`). Replaces the defaults (`Redactor.defaultKeys()`).
  pub keys: Option<Vec<String>>,
  /// Exact paths: `a.b`, `a["x-y"]`, `items[*].pin`, `*.token`, `**.ssn` (`**`: any depth).
  pub paths: Option<Vec<String>>,
  /// Value patterns looked for inside every string. Replaces the defaults (all of
  /// `Redactor.patternNames()`); `[]` turns value scanning off.
  pub patterns: Option<Vec<String>>,
  /// What a secret becomes. Default `'[REDACTED]'`.
  pub censor: Option<String>,
  /// A key (32 bytes or more) for pseudonyms: each secret becomes `[hmac:<16 hex digits>]`, the
  /// same for the same secret, so lines can be correlated without revealing the value.
  #[napi(ts_type = "Uint8Array | string")]
  pub pseudonym_key: Option<String>,
  /// `'last4'` keeps the last four digits of card numbers found by pattern. Default `'full'`.
  #[napi(ts_type = "'full' | 'last4'")]
  pub card_mask: Option<String>,
  /// Longest input read, in bytes (default 1 MiB); longer input is redacted whole.
  pub max_length: Option<u32>,
}

/// An optional list of strings (at most `MAX_RULES`, each at most `max_len` bytes).
fn list(options: Option<&Object<'_>>, key: &str, max_len: usize) -> Result<Option<Vec<String>>> {
  let Some(options) = options else {
    return Ok(None);
  };
  let Some(value) = args::field(options, key)? else {
    return Ok(None);
  };
  let name = format!("options.{key}");
  args::array(&value, &name, MAX_RULES)?
    .iter()
    .enumerate()
    .map(|(i, item)| {
      let name = format!("{name}[{i}]");
      let text = args::string(item, &name)?;
      if text.len() > max_len {
        return Err(Error::out_of_range(
          &name,
          format!("at most {max_len} bytes long"),
        ));
      }
      Ok(text)
    })
    .collect::<Result<Vec<_>>>()
    .map(Some)
}

fn parse_options(options: Option<&Unknown<'_>>) -> Result<Policy> {
  let options = args::options(options, "options")?;
  let o = options.as_ref();
  let keys = list(o, "keys", rules::MAX_KEY_LEN)?
    .unwrap_or_else(|| rules::DEFAULT_KEYS.iter().map(|s| s.to_string()).collect());
  let keys = rules::Keys::new(&keys).map_err(|p| Error::arg_value("options.keys", p))?;
  let mut paths = Vec::new();
  let path_list = list(o, "paths", rules::MAX_PATH_LEN)?.unwrap_or_default();
  for (i, path) in path_list.iter().enumerate() {
    let name = format!("options.paths[{i}]");
    paths.push(rules::parse_path(path).map_err(|e| match e {
      rules::PathError::Invalid(p) => Error::arg_value(&name, p),
      rules::PathError::TooManySteps => Error::out_of_range(
        &name,
        format!("a path of at most {} steps", rules::MAX_PATH_STEPS),
      ),
    })?);
  }
  let names = list(o, "patterns", MAX_PATTERN_NAME_LEN)?
    .unwrap_or_else(|| patterns::names().iter().map(|s| s.to_string()).collect());
  let scanner =
    patterns::Scanner::new(&names).map_err(|p| Error::arg_value("options.patterns", p))?;
  let censor_text = match o {
    Some(o) => args::opt_string(o, "censor")?,
    None => None,
  }
  .unwrap_or_else(|| censor::DEFAULT_CENSOR.to_owned());
  if censor_text.len() > MAX_CENSOR_LEN {
    return Err(Error::out_of_range(
      "options.censor",
      format!("at most {MAX_CENSOR_LEN} bytes"),
    ));
  }
  let censor = match args::opt_secret(o, "pseudonymKey")? {
    Some(key) if key.len() < 32 => {
      return Err(Error::out_of_range(
        "options.pseudonymKey",
        "at least 32 bytes (crypto.randomBytes(32))",
      ))
    }
    Some(key) => Censor::Pseudonym(hmac::Key::new(hmac::HMAC_SHA256, &key)),
    None => Censor::Text(censor_text),
  };
  let card_last4 = match o
    .map(|o| args::opt_string(o, "cardMask"))
    .transpose()?
    .flatten()
  {
    None => false,
    Some(mask) if mask == "full" => false,
    Some(mask) if mask == "last4" => true,
    Some(_) => {
      return Err(Error::arg_value(
        "options.cardMask",
        "must be 'full' or 'last4'",
      ))
    }
  };
  let max_len = args::opt_u32(o, "maxLength", 1, MAX_LENGTH)?.unwrap_or(DEFAULT_MAX_LENGTH);
  Ok(Policy {
    keys,
    paths,
    scanner,
    replacer: Replacer { censor, card_last4 },
    max_len: max_len as usize,
  })
}

/// Text input: a string, or a Buffer/Uint8Array of UTF-8 (`None` when it is not valid UTF-8,
/// which is then redacted whole).
fn text_input<'env>(value: &Unknown<'env>, name: &str) -> Result<Option<Bytes<'env>>> {
  if args::type_of(value) == Some(ValueType::String) {
    return text::read(value)
      .map(|s| Some(Bytes::Text(s)))
      .ok_or_else(|| Error::new(Code::Internal, "could not read a string argument"));
  }
  let bytes = args::bytes(value, name)?;
  let valid = std::str::from_utf8(bytes.as_ref()).is_ok();
  Ok(valid.then_some(bytes))
}

/// The text of an input from [`text_input`] (bytes were checked as UTF-8 there).
fn as_str<'a>(input: &'a Bytes<'_>) -> &'a str {
  match input {
    Bytes::Text(text) => text,
    Bytes::View(_) => std::str::from_utf8(input.as_ref()).unwrap_or_default(),
  }
}

/// `redactJson` on `policy`: the body of the class method and of the bound function.
fn redact_json_value<'env>(
  policy: &Policy,
  env: &'env Env,
  json: Unknown<'env>,
) -> Result<Unknown<'env>> {
  let input = text_input(&json, "json")?;
  let out = match &input {
    None => policy.fail_closed(""),
    Some(bytes) => {
      let text = as_str(bytes);
      match policy.redact_json(text) {
        Ok(Some(out)) => out,
        // Unchanged: hand back the caller's own string rather than building a copy.
        Ok(None) if matches!(bytes, Bytes::Text(_)) => return Ok(json),
        Ok(None) => text.to_owned(),
        Err(json::Unreadable) => policy.fail_closed(text),
      }
    }
  };
  text::create(env, &out).map_err(|_| error::internal(env, "a string"))
}

/// `redactText` on `policy`, the same way.
fn redact_text_value<'env>(
  policy: &Policy,
  env: &'env Env,
  value: Unknown<'env>,
) -> Result<Unknown<'env>> {
  let input = text_input(&value, "text")?;
  let out = match &input {
    None => policy.fail_closed("").trim_matches('"').to_owned(),
    Some(bytes) => {
      let text = as_str(bytes);
      if text.len() > policy.max_len {
        let mut out = String::new();
        policy.replacer.replace(text, false, &mut out);
        out
      } else {
        match policy.redact_text(text) {
          Some(out) => out,
          None if matches!(bytes, Bytes::Text(_)) => return Ok(value),
          None => text.to_owned(),
        }
      }
    }
  };
  text::create(env, &out).map_err(|_| error::internal(env, "a string"))
}

/// `redactJson` bound to one policy (see `src/bound.rs`).
struct RedactJson;
/// `redactText` bound to one policy.
struct RedactText;

impl bound::Method for RedactJson {
  type Data = Rc<Policy>;
  const NAME: &'static str = "redactJson";
  fn call<'env>(
    policy: &Rc<Policy>,
    env: &'env Env,
    [json, _]: &[Unknown<'env>; 2],
  ) -> Result<sys::napi_value> {
    redact_json_value(policy, env, *json).map(|v| v.raw())
  }
}

impl bound::Method for RedactText {
  type Data = Rc<Policy>;
  const NAME: &'static str = "redactText";
  fn call<'env>(
    policy: &Rc<Policy>,
    env: &'env Env,
    [text, _]: &[Unknown<'env>; 2],
  ) -> Result<sys::napi_value> {
    redact_text_value(policy, env, *text).map(|v| v.raw())
  }
}

/// Redacts secrets from log lines, JSON documents, objects and free text. Rules are compiled
/// once; the input is never modified.
#[napi]
pub struct Redactor {
  /// Shared with the bound functions of `_bound` (a `Redactor` lives on one JS thread).
  policy: Rc<Policy>,
}

#[napi]
impl Redactor {
  #[napi(constructor, catch_unwind, ts_args_type = "options?: RedactorOptions")]
  pub fn new(env: Env, options: Option<Unknown>) -> napi::Result<Self> {
    throw(
      &env,
      parse_options(options.as_ref()).map(|policy| Redactor {
        policy: Rc::new(policy),
      }),
    )
  }

  /// Redacts a JSON text (a log line) and returns valid JSON: the same text byte for byte except
  /// the secrets. Input that is not JSON, too long or too deep comes back as the censor, a JSON
  /// string (a trailing newline is kept).
  #[napi(
    catch_unwind,
    ts_args_type = "json: string | Uint8Array",
    ts_return_type = "string"
  )]
  pub fn redact_json<'env>(
    &self,
    env: &'env Env,
    json: Unknown<'env>,
  ) -> napi::Result<Unknown<'env>> {
    throw(env, redact_json_value(&self.policy, env, json))
  }

  /// `[redactJson, redactText]` as functions bound to this redactor's rules, for the JS wrapper
  /// (a class method call costs more than redacting a short line: see `src/bound.rs`).
  #[napi(js_name = "_bound", catch_unwind, skip_typescript)]
  pub fn bound<'env>(&self, env: &'env Env) -> napi::Result<Vec<Unknown<'env>>> {
    let both = || {
      Ok(vec![
        bound::function::<RedactJson>(env, self.policy.clone())?,
        bound::function::<RedactText>(env, self.policy.clone())?,
      ])
    };
    throw(env, both())
  }

  /// A redacted copy of `value` (through JSON: what `JSON.stringify` keeps). The input is never
  /// modified.
  #[napi(
    skip_typescript,
    catch_unwind,
    ts_args_type = "value: unknown",
    ts_return_type = "any"
  )]
  pub fn redact<'env>(&self, env: &'env Env, value: Unknown<'env>) -> napi::Result<Unknown<'env>> {
    if args::type_of(&value) == Some(ValueType::Undefined) {
      return Ok(value);
    }
    let Some(text) = args::stringify(env, value)? else {
      // JSON.stringify drops functions and symbols; so does the copy.
      return ().into_unknown(env);
    };
    let out = match self.policy.redact_json(&text) {
      Ok(Some(out)) => out,
      Ok(None) => text,
      Err(json::Unreadable) => self.policy.fail_closed(&text),
    };
    args::parse_json(env, &out)
  }

  /// Redacts the value-pattern secrets in free text (messages, stack traces, URLs).
  #[napi(
    catch_unwind,
    ts_args_type = "text: string | Uint8Array",
    ts_return_type = "string"
  )]
  pub fn redact_text<'env>(
    &self,
    env: &'env Env,
    text: Unknown<'env>,
  ) -> napi::Result<Unknown<'env>> {
    throw(env, redact_text_value(&self.policy, env, text))
  }

  /// The keys redacted when `keys` is not given.
  #[napi(catch_unwind)]
  pub fn default_keys() -> Vec<&'static str> {
    rules::DEFAULT_KEYS.to_vec()
  }

  /// Every value pattern, all on by default.
  #[napi(catch_unwind)]
  pub fn pattern_names() -> Vec<&'static str> {
    patterns::names()
  }
}
