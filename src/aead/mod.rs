//! Authenticated encryption bindings: the `Keyring` class (AES-256-GCM envelopes with key ids,
//! context binding and rotation). Every call is synchronous: one AES-GCM pass costs less than
//! handing work to another thread.

mod envelope;
mod key;
mod keyring;

use napi::bindgen_prelude::{BufferSlice, FnArgs, Function, JsObjectValue, Object, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::args::{self, Bytes};
use crate::error::{self, Code, Error, Result};

/// One key of a keyring.
// Declares the TypeScript type only; options are read field by field so every bad value gets a
// stable error code.
#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct KeyringKey {
  /// Short public identifier stored in every ciphertext: 1 to 64 characters from
  /// `A-Z a-z 0-9 . _ : -` (for example `'2026-01'`).
  pub id: String,
  /// 32 bytes: a Buffer/Uint8Array, or a base64 / base64url string of them.
  #[napi(ts_type = "Uint8Array | string")]
  pub key: String,
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct KeyringOptions {
  /// Every key that may decrypt; at least one.
  pub keys: Vec<KeyringKey>,
  /// Id of the key that encrypts. All other keys only decrypt.
  pub primary: String,
  /// Encryptions allowed per key in this keyring before `encrypt` throws `ERR_KEY_LIMIT`, 1 to
  /// 2^32-1. Default 2^30, a quarter of NIST SP 800-38D's 2^32 limit for random nonces. A warning is
  /// emitted when a key reaches half of it.
  pub max_encryptions_per_key: Option<f64>,
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct CryptOptions {
  /// What the data is and where it belongs (for example `'users.email:42'`). The same context
  /// must be given to decrypt, so a ciphertext copied to another row or column fails. Up to
  /// 64 KiB. Default: empty.
  #[napi(ts_type = "string | Uint8Array")]
  pub context: Option<String>,
}

/// Usage of one key, from `Keyring#usage()`.
#[napi(object, object_from_js = false)]
pub struct KeyUsage {
  pub id: String,
  pub primary: bool,
  /// Encryptions made with this key by this keyring since it was created.
  pub encryptions: f64,
  /// `maxEncryptionsPerKey`.
  pub limit: f64,
}

/// A set of AES-256-GCM keys, one of them primary. Encrypts with the primary key and decrypts
/// with whichever key a ciphertext names. Keys cannot be read back from it.
#[napi]
pub struct Keyring {
  inner: keyring::Ring,
}

fn key_bytes(value: &Unknown<'_>, name: &str) -> Result<Zeroizing<Vec<u8>>> {
  match args::bytes(value, name)? {
    Bytes::View(view) => Ok(Zeroizing::new(view.to_vec())),
    Bytes::Text(text) => key::from_text(&Zeroizing::new(text), name),
  }
}

fn parse_options(options: &Unknown<'_>) -> Result<keyring::Ring> {
  let options = args::object(options, "options")?;
  let keys_value = args::required(&options, "keys", "options.keys", "an instance of Array")?;
  let mut keys = Vec::new();
  for (index, element) in args::array(&keys_value, "options.keys", keyring::MAX_KEYS)?
    .iter()
    .enumerate()
  {
    let name = format!("options.keys[{index}]");
    let entry = args::object(element, &name)?;
    let id_name = format!("{name}.id");
    let id = args::required(&entry, "id", &id_name, "of type string")?;
    let id = args::string(&id, &id_name)?;
    let key_name = format!("{name}.key");
    let key = args::required(
      &entry,
      "key",
      &key_name,
      "a Buffer, Uint8Array or base64 string",
    )?;
    keys.push((id, key_bytes(&key, &key_name)?));
  }
  let primary = args::required(&options, "primary", "options.primary", "of type string")?;
  let primary = args::string(&primary, "options.primary")?;
  let limit = args::opt_u32(Some(&options), "maxEncryptionsPerKey", 1, u32::MAX)?;
  keyring::Ring::new(keys, &primary, keyring::limit_or_default(limit))
}

/// `options.context` of a call, as bytes (empty when absent).
fn context<'env>(options: Option<&Unknown<'env>>) -> Result<Option<Bytes<'env>>> {
  let Some(options) = args::options(options, "options")? else {
    return Ok(None);
  };
  let Some(value) = args::field(&options, "context")? else {
    return Ok(None);
  };
  let context = args::bytes(&value, "options.context")?;
  keyring::check_context(context.as_ref())?;
  Ok(Some(context))
}

fn context_bytes<'a>(context: &'a Option<Bytes<'_>>) -> &'a [u8] {
  context.as_ref().map_or(&[], |c| c.as_ref())
}

/// A ciphertext argument: an envelope (Buffer/Uint8Array) or its text form (string).
enum Sealed<'env> {
  Binary(napi::bindgen_prelude::Uint8ArraySlice<'env>),
  Text(String),
}

fn sealed<'env>(value: &Unknown<'env>, name: &str) -> Result<Sealed<'env>> {
  Ok(match args::bytes(value, name)? {
    Bytes::View(view) => Sealed::Binary(view),
    Bytes::Text(text) => Sealed::Text(text),
  })
}

/// Copies bytes into a new JS Buffer. Measured: handing a Rust allocation to JS as an external
/// buffer instead is about ten times slower at 64 KiB-1 MiB (finalizers and GC pressure), and a
/// copy lets rampart wipe its own copy of a plaintext right away.
fn to_buffer<'env>(env: &'env Env, bytes: &[u8]) -> Result<BufferSlice<'env>> {
  BufferSlice::copy_from(env, bytes).map_err(|_| error::internal(env, "allocate a Buffer"))
}

impl Keyring {
  /// `encrypt`'s arguments read and sealed: the envelope bytes.
  fn seal_args(
    &self,
    env: &Env,
    plaintext: &Unknown<'_>,
    options: Option<&Unknown<'_>>,
  ) -> Result<Vec<u8>> {
    let plaintext = args::bytes(plaintext, "plaintext")?;
    let context = context(options)?;
    self.seal(env, plaintext.as_ref(), context_bytes(&context))
  }

  fn seal(&self, env: &Env, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>> {
    let sealed = self.inner.encrypt(plaintext, context)?;
    if sealed.reached_warning {
      let message = format!(
        "rampart Keyring: key \"{}\" has made {} encryptions, half of its limit of {}; \
         make a new key the primary soon",
        self.inner.primary_id(),
        self.inner.limit / 2,
        self.inner.limit
      );
      // Best effort: a failure to warn must not fail the encryption.
      let _ = emit_warning(env, &message);
    }
    Ok(sealed.envelope)
  }

  /// Decrypts straight into a new JS Buffer.
  #[cfg(not(target_family = "wasm"))]
  fn open<'env>(
    &self,
    env: &'env Env,
    sealed: Sealed<'_>,
    context: &[u8],
  ) -> Result<BufferSlice<'env>> {
    let output = |ciphertext: &[u8]| to_buffer(env, ciphertext).map(Output);
    let out = match sealed {
      Sealed::Binary(view) => self.inner.decrypt_with(&view, context, output)?,
      Sealed::Text(text) => {
        self
          .inner
          .decrypt_with(&envelope::from_text(&text)?, context, output)?
      }
    };
    Ok(out.0)
  }

  /// Decrypts, then copies into a new JS Buffer: on wasm a Buffer's bytes live outside the
  /// module's memory, and writes made after the Buffer is created would not reach JavaScript.
  #[cfg(target_family = "wasm")]
  fn open<'env>(
    &self,
    env: &'env Env,
    sealed: Sealed<'_>,
    context: &[u8],
  ) -> Result<BufferSlice<'env>> {
    let plain = match sealed {
      Sealed::Binary(view) => self.inner.decrypt(&view, context)?,
      Sealed::Text(text) => self.inner.decrypt(&envelope::from_text(&text)?, context)?,
    };
    to_buffer(env, &plain)
  }
}

/// A JS Buffer as decryption output.
#[cfg(not(target_family = "wasm"))]
struct Output<'env>(BufferSlice<'env>);

#[cfg(not(target_family = "wasm"))]
impl AsMut<[u8]> for Output<'_> {
  fn as_mut(&mut self) -> &mut [u8] {
    &mut self.0
  }
}

/// `process.emitWarning(message, { code: 'RAMPART_KEY_USAGE' })`.
fn emit_warning(env: &Env, message: &str) -> napi::Result<()> {
  let process: Object = env.get_global()?.get_named_property("process")?;
  let emit: Function<FnArgs<(&str, Object)>, Unknown> =
    process.get_named_property("emitWarning")?;
  let mut options = Object::new(env)?;
  options.set_named_property("code", "RAMPART_KEY_USAGE")?;
  emit.apply(process, FnArgs::from((message, options)))?;
  Ok(())
}

#[napi]
impl Keyring {
  /// Builds a keyring. Keys are copied into the addon and cannot be read back; they are wiped
  /// from memory when the keyring is garbage-collected.
  #[napi(constructor, catch_unwind, ts_args_type = "options: KeyringOptions")]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    error::run(&env, || {
      parse_options(&options).map(|inner| Keyring { inner })
    })
  }

  /// 32 random bytes from the operating system: a new AES-256 key.
  #[napi(catch_unwind, ts_return_type = "Buffer")]
  pub fn generate_key(env: &Env) -> napi::Result<BufferSlice<'_>> {
    error::run(env, || {
      let mut key = Zeroizing::new(vec![0u8; key::KEY_LEN]);
      getrandom::fill(&mut key)
        .map_err(|_| Error::new(Code::Internal, "the OS random number generator failed"))?;
      to_buffer(env, &key)
    })
  }

  /// The id of the key that encrypts.
  #[napi(getter, catch_unwind)]
  pub fn primary_key_id(&self) -> String {
    self.inner.primary_id().to_owned()
  }

  /// Encrypts under the primary key and returns the envelope as a Buffer.
  #[napi(
    catch_unwind,
    ts_args_type = "plaintext: string | Uint8Array, options?: CryptOptions",
    ts_return_type = "Buffer"
  )]
  pub fn encrypt<'env>(
    &self,
    env: &'env Env,
    plaintext: Unknown<'env>,
    options: Option<Unknown<'env>>,
  ) -> napi::Result<BufferSlice<'env>> {
    error::run(env, || {
      to_buffer(env, &self.seal_args(env, &plaintext, options.as_ref())?)
    })
  }

  /// Encrypts like `encrypt` and returns the text form: `rmp1.` + base64url.
  #[napi(
    catch_unwind,
    ts_args_type = "plaintext: string | Uint8Array, options?: CryptOptions"
  )]
  pub fn encrypt_to_string(
    &self,
    env: Env,
    plaintext: Unknown,
    options: Option<Unknown>,
  ) -> napi::Result<String> {
    error::run(&env, || {
      let envelope = self.seal_args(&env, &plaintext, options.as_ref())?;
      Ok(envelope::to_text(&envelope))
    })
  }

  /// Decrypts an envelope (Buffer/Uint8Array, or the text form) and returns the plaintext as a
  /// Buffer (`.toString()` for text). Throws `ERR_DECRYPT` for anything that does not
  /// authenticate and `ERR_KEY_NOT_FOUND` when the named key is not in this keyring.
  #[napi(
    catch_unwind,
    ts_args_type = "ciphertext: Uint8Array | string, options?: CryptOptions",
    ts_return_type = "Buffer"
  )]
  pub fn decrypt<'env>(
    &self,
    env: &'env Env,
    ciphertext: Unknown<'env>,
    options: Option<Unknown<'env>>,
  ) -> napi::Result<BufferSlice<'env>> {
    error::run(env, || {
      let (sealed, context) = open_args(&ciphertext, options.as_ref())?;
      self.open(env, sealed, context_bytes(&context))
    })
  }

  /// Decrypts the text form made by `encryptToString`; returns the plaintext as a Buffer.
  #[napi(
    catch_unwind,
    ts_args_type = "text: string, options?: CryptOptions",
    ts_return_type = "Buffer"
  )]
  pub fn decrypt_string<'env>(
    &self,
    env: &'env Env,
    text: Unknown<'env>,
    options: Option<Unknown<'env>>,
  ) -> napi::Result<BufferSlice<'env>> {
    error::run(env, || {
      let text = args::string(&text, "text")?;
      let context = context(options.as_ref())?;
      self.open(env, Sealed::Text(text), context_bytes(&context))
    })
  }

  /// The key id a ciphertext (Buffer or text form) names. Read from the header without
  /// authenticating it: use it for bookkeeping, not for decisions about trust.
  #[napi(catch_unwind, ts_args_type = "ciphertext: Uint8Array | string")]
  pub fn key_id(&self, env: Env, ciphertext: Unknown) -> napi::Result<String> {
    error::run(&env, || key_id_of(&ciphertext))
  }

  /// True when a ciphertext is not under the primary key (so `reencrypt` would move it).
  #[napi(catch_unwind, ts_args_type = "ciphertext: Uint8Array | string")]
  pub fn needs_reencrypt(&self, env: Env, ciphertext: Unknown) -> napi::Result<bool> {
    error::run(&env, || {
      key_id_of(&ciphertext).map(|id| id != self.inner.primary_id())
    })
  }

  /// Decrypts with the key the ciphertext names and encrypts again with the primary key, under
  /// the same context. Returns the same form it was given (Buffer or text).
  #[napi(
    catch_unwind,
    ts_args_type = "ciphertext: Uint8Array | string, options?: CryptOptions",
    ts_return_type = "Buffer | string"
  )]
  pub fn reencrypt<'env>(
    &self,
    env: &'env Env,
    ciphertext: Unknown<'env>,
    options: Option<Unknown<'env>>,
  ) -> napi::Result<Unknown<'env>> {
    error::run(env, || {
      let (sealed, context) = open_args(&ciphertext, options.as_ref())?;
      let as_text = matches!(sealed, Sealed::Text(_));
      let context = context_bytes(&context);
      let plaintext = match sealed {
        Sealed::Binary(view) => self.inner.decrypt(&view, context)?,
        Sealed::Text(text) => self.inner.decrypt(&envelope::from_text(&text)?, context)?,
      };
      let envelope = self.seal(env, &plaintext, context)?;
      if as_text {
        env
          .create_string(envelope::to_text(&envelope))
          .map(|s| s.to_unknown())
          .map_err(|_| error::internal(env, "allocate a string"))
      } else {
        to_buffer(env, &envelope).map(|b| b.to_unknown())
      }
    })
  }

  /// Encryption counts per key, for monitoring.
  #[napi(catch_unwind)]
  pub fn usage(&self) -> Vec<KeyUsage> {
    let primary = self.inner.primary_id();
    self
      .inner
      .entries()
      .iter()
      .map(|entry| KeyUsage {
        id: entry.id.clone(),
        primary: entry.id == primary,
        encryptions: entry.encryptions.get() as f64,
        limit: self.inner.limit as f64,
      })
      .collect()
  }
}

/// `decrypt`'s and `reencrypt`'s arguments: the ciphertext and the context.
fn open_args<'env>(
  ciphertext: &Unknown<'env>,
  options: Option<&Unknown<'env>>,
) -> Result<(Sealed<'env>, Option<Bytes<'env>>)> {
  Ok((sealed(ciphertext, "ciphertext")?, context(options)?))
}

fn key_id_of(ciphertext: &Unknown<'_>) -> Result<String> {
  match sealed(ciphertext, "ciphertext")? {
    Sealed::Binary(view) => keyring::Ring::key_id(&view).map(str::to_owned),
    Sealed::Text(text) => {
      let envelope = envelope::from_text(&text)?;
      keyring::Ring::key_id(&envelope).map(str::to_owned)
    }
  }
}
