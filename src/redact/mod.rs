//! Log redaction bindings: the `Redactor` class. Rules are compiled once, in the constructor;
//! every call is one synchronous pass over a string (a log line costs less than a thread hop).

mod censor;
mod json;
mod patterns;
mod rules;
mod writer;

use std::cell::RefCell;
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

/// Most UTF-16 units a `LogWriter` holds before `write` waits for its thread (16 MiB of
/// ASCII text; 32 MiB of memory).
const MAX_QUEUED_UNITS: usize = 16 << 20;

/// Where a `LogWriter` writes: stdout, stderr or a file it opened.
enum Sink {
  Stdout,
  Stderr,
  File(std::fs::File),
}

impl std::io::Write for Sink {
  fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
    match self {
      Sink::Stdout => std::io::stdout().lock().write(buf),
      Sink::Stderr => std::io::stderr().lock().write(buf),
      Sink::File(file) => file.write(buf),
    }
  }

  fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
    match self {
      Sink::Stdout => std::io::stdout().lock().write_all(buf),
      Sink::Stderr => std::io::stderr().lock().write_all(buf),
      Sink::File(file) => file.write_all(buf),
    }
  }

  fn flush(&mut self) -> std::io::Result<()> {
    match self {
      Sink::Stdout => std::io::stdout().lock().flush(),
      Sink::Stderr => std::io::stderr().lock().flush(),
      Sink::File(_) => Ok(()),
    }
  }
}

fn write_error(error: writer::WriteError) -> Error {
  match error {
    writer::WriteError::Io(reason) => Error::new(
      Code::LogWrite,
      format!("the log destination failed: {reason}; nothing more is written"),
    ),
    writer::WriteError::Closed => Error::new(Code::LogWrite, "the log writer is closed"),
  }
}

/// `new LogWriter(options)`: the destination opened and the redaction rules compiled.
fn open_writer(options: &Unknown<'_>) -> Result<writer::Writer> {
  const EXPECTED: &str = "1, 2 or a file path";
  let o = args::object(options, "options")?;
  let destination = args::required(&o, "destination", "options.destination", EXPECTED)?;
  let path = match args::type_of(&destination) {
    Some(ValueType::Number) => {
      args::number_u32(&destination, "options.destination", 1, 2)?;
      None
    }
    Some(ValueType::String) => {
      let path = args::string(&destination, "options.destination")?;
      if path.is_empty() || path.contains('\0') {
        return Err(Error::arg_value(
          "options.destination",
          "must be a file path",
        ));
      }
      Some(path)
    }
    _ => {
      let received = args::describe(&destination);
      return Err(Error::arg_type("options.destination", EXPECTED, &received));
    }
  };
  let append = args::opt_bool(Some(&o), "append")?.unwrap_or(true);
  let policy = parse_options(args::field(&o, "redact")?.as_ref())?;
  if cfg!(target_family = "wasm") {
    return Err(Error::new(
      Code::LogWrite,
      "LogWriter needs native threads; on WebAssembly, redactedDestination (rampart/logging) writes on the calling thread",
    ));
  }
  let sink = match path {
    None if args::number_u32(&destination, "options.destination", 1, 2)? == 1 => Sink::Stdout,
    None => Sink::Stderr,
    Some(path) => std::fs::OpenOptions::new()
      .create(true)
      .write(true)
      .append(append)
      .truncate(!append)
      .open(&path)
      .map(Sink::File)
      .map_err(|e| Error::new(Code::LogWrite, format!("could not open {path:?}: {e}")))?,
  };
  writer::Writer::start(policy, sink, MAX_QUEUED_UNITS).map_err(|e| {
    Error::new(
      Code::LogWrite,
      format!("could not start the log writer thread: {e}"),
    )
  })
}

/// Characters gathered on the JS thread before they are handed to the writer thread (one
/// lock and, when it sleeps, one wake-up per hand-over instead of per line; 16 Ki cost the
/// request thread ~0.1 µs more per 1 KiB line than 64 Ki when the writer thread had little to
/// do, as it slept and was woken every 16 lines).
const HAND_OVER_UNITS: usize = 64 * 1024;

/// A `LogWriter`'s state on the JS thread: the writer, and the text appended since the last
/// hand-over. Shared with the bound `append` function (one JS thread, hence `Rc`/`RefCell`).
struct WriterHandle {
  writer: writer::Writer,
  pending: RefCell<Vec<u16>>,
}

impl WriterHandle {
  /// Appends the JS string `text`; hands the text over once there is enough of it, or at once
  /// when `now`.
  fn append(&self, text: &Unknown<'_>, now: bool) -> Result<()> {
    if args::type_of(text) != Some(ValueType::String) {
      return Err(Error::arg_type(
        "text",
        "of type string",
        &args::describe(text),
      ));
    }
    self.writer.status().map_err(write_error)?;
    let full = {
      let mut pending = self.pending.borrow_mut();
      if pending.capacity() == 0 {
        *pending = self.writer.buffer(2 * HAND_OVER_UNITS);
      }
      if !text::append_utf16(text, &mut pending) {
        return Err(Error::new(
          Code::Internal,
          "could not read a string argument",
        ));
      }
      pending.len() >= HAND_OVER_UNITS
    };
    if full || now {
      self.hand_over()?;
    }
    Ok(())
  }

  /// Hands the appended text to the writer thread.
  fn hand_over(&self) -> Result<()> {
    let chunk = std::mem::take(&mut *self.pending.borrow_mut());
    self.writer.write(chunk).map_err(write_error)
  }
}

impl Drop for WriterHandle {
  /// Collected without `close()`: what was appended still goes to the writer thread, which
  /// writes it and ends on its own (see `writer::Writer`'s `Drop`).
  fn drop(&mut self) {
    let _ = self.hand_over();
  }
}

/// `LogWriter#_bound()[0]`: `append(text)`, without the hand-over (see `src/bound.rs`).
struct Append;

impl bound::Method for Append {
  type Data = Rc<WriterHandle>;
  const NAME: &'static str = "append";
  fn call<'env>(
    handle: &Rc<WriterHandle>,
    env: &'env Env,
    [text, _]: &[Unknown<'env>; 2],
  ) -> Result<sys::napi_value> {
    handle.append(text, false)?;
    args::undefined(env).map(|v| v.raw())
  }
}

/// A log destination that redacts on its own thread: `write` copies the text and returns; the
/// thread splits lines, redacts each as JSON (a line that is not JSON becomes the censor) and
/// writes them to stdout, stderr or a file. The building block of `redactedDestination` in
/// `rampart/logging`; not available on WebAssembly.
#[napi]
pub struct LogWriter {
  handle: Rc<WriterHandle>,
}

#[napi]
impl LogWriter {
  #[napi(constructor, catch_unwind, ts_args_type = "options: LogWriterOptions")]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    let open = open_writer(&options).map(|writer| LogWriter {
      handle: Rc::new(WriterHandle {
        writer,
        pending: RefCell::new(Vec::new()),
      }),
    });
    throw(&env, open)
  }

  /// Queues `text` (whole lines end with a newline; a line may span calls) and returns; waits
  /// only when more than 16 Mi characters are queued (besides the batch being written). Throws `ERR_LOG_WRITE` after a
  /// write error or `close()`.
  #[napi(catch_unwind, ts_args_type = "text: string")]
  pub fn write(&self, env: Env, text: Unknown) -> napi::Result<()> {
    throw(&env, self.handle.append(&text, true))
  }

  /// `[append]`: `write` without the hand-over, which happens every 64 Ki characters and at
  /// `_handOver()`, `flush()` and `close()` (for `redactedDestination`, which hands over once
  /// per event-loop turn).
  #[napi(js_name = "_bound", catch_unwind, skip_typescript)]
  pub fn bound<'env>(&self, env: &'env Env) -> napi::Result<Vec<Unknown<'env>>> {
    let append = bound::function::<Append>(env, self.handle.clone());
    throw(env, append.map(|f| vec![f]))
  }

  /// Hands what `_bound()[0]` appended to the writer thread.
  #[napi(js_name = "_handOver", catch_unwind, skip_typescript)]
  pub fn hand_over(&self, env: Env) -> napi::Result<()> {
    throw(&env, self.handle.hand_over())
  }

  /// Waits until everything written so far has reached the destination (blocks this thread).
  #[napi(catch_unwind)]
  pub fn flush(&self, env: Env) -> napi::Result<()> {
    let flush = || {
      self.handle.hand_over()?;
      self.handle.writer.flush().map_err(write_error)
    };
    throw(&env, flush())
  }

  /// Whether everything written so far has reached the destination (or the writer has ended).
  #[napi(catch_unwind)]
  pub fn is_idle(&self) -> bool {
    self.handle.pending.borrow().is_empty() && self.handle.writer.is_idle()
  }

  /// Writes what is queued (an unterminated last line redacted as a line), then ends the thread and
  /// closes the file. Blocks until done; closing twice is fine. Throws `ERR_LOG_WRITE` if a
  /// write failed.
  #[napi(catch_unwind)]
  pub fn close(&self, env: Env) -> napi::Result<()> {
    // What is still appended goes first (refused only if the writer already failed or closed).
    let _ = self.handle.hand_over();
    throw(&env, self.handle.writer.close().map_err(write_error))
  }
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct LogWriterOptions {
  /// `1` (stdout), `2` (stderr) or the path of a file (created if missing).
  pub destination: napi::Either<u32, String>,
  /// Append to the file (default `true`); `false` truncates it.
  pub append: Option<bool>,
  /// The redaction rules, as for `new Redactor(options)`.
  pub redact: Option<RedactorOptions>,
}
