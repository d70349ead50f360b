//! JWT bindings: `JwtSigner`, `JwtVerifier` and `decodeJwtUnverified`. Keys are parsed once, in
//! the constructor, into ring key objects; every call is synchronous (an HMAC, ECDSA or Ed25519
//! operation costs less than handing work to another thread). The package entry point wraps
//! `sign`/`verify` with `_sign`/`_verify`, which take and return JSON text: V8's own
//! `JSON.stringify`/`JSON.parse` are faster than building objects through N-API.

mod claims;
mod der;
mod json;
mod key;
mod pem;
mod token;

use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{JsObjectValue, Object, Unknown};
use std::rc::Rc;

use napi::{sys, Env, JsValue, ValueType};
use napi_derive::napi;
use serde_json::Value;

use crate::error::{self, throw, Error, Result};
use crate::{args, bound, text};
use key::{Alg, Material, Signer, Verifier};
use token::{KeyEntry, SignConfig, VerifyConfig};

/// Default token lifetime when `expiresIn` is not given: 15 minutes.
const DEFAULT_EXPIRES_IN: u32 = 15 * 60;
/// Largest `expiresIn` / `notBefore` / `maxAge`: ten years, in seconds.
const MAX_SECONDS_OPTION: u32 = 10 * 366 * 24 * 3600;
const MAX_TOKEN_LEN_LIMIT: u32 = 1024 * 1024;
const MAX_KEYS: usize = 100;

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct JwtSignerOptions {
  /// `'HS256'`, `'HS384'`, `'HS512'`, `'RS256'`, `'RS384'`, `'RS512'`, `'PS256'`, `'PS384'`,
  /// `'PS512'`, `'ES256'`, `'ES384'`, `'ES512'`, `'EdDSA'` or `'Ed25519'` (RFC 9864).
  #[napi(ts_type = "import('./js/jwt.js').JwtAlgorithm")]
  pub algorithm: String,
  /// A PEM private key (PKCS#8, PKCS#1 or SEC1), a private JWK, a `KeyObject`, or for HS* a
  /// secret (Buffer or string) at least as long as the hash (32, 48 or 64 bytes).
  #[napi(
    ts_type = "string | Uint8Array | import('node:crypto').JsonWebKey | import('node:crypto').KeyObject"
  )]
  pub key: String,
  /// Written as the `kid` header. Defaults to the JWK's `kid`.
  pub key_id: Option<String>,
  /// Written as `iss` in every token.
  pub issuer: Option<String>,
  /// Written as `aud` in every token.
  #[napi(ts_type = "string | string[]")]
  pub audience: Option<String>,
  /// Written as `sub` in every token (usually the payload carries it instead).
  pub subject: Option<String>,
  /// Seconds until `exp` (1 to ten years). Default 900 (15 minutes). A payload `exp` wins.
  pub expires_in: Option<u32>,
  /// Seconds from now until `nbf`. Default: no `nbf`.
  pub not_before: Option<u32>,
  /// The `typ` header. Default `'JWT'`; for OAuth access tokens `'at+jwt'` (RFC 9068).
  pub typ: Option<String>,
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct JwtVerifierOptions {
  /// The algorithms accepted; required, never inferred. Each must suit the key.
  #[napi(ts_type = "import('./js/jwt.js').JwtAlgorithm[]")]
  pub algorithms: Vec<String>,
  /// A PEM public (or private) key, a JWK, a JWKS (`{ keys: [...] }`, chosen by `kid`), a
  /// `KeyObject`, a `RemoteJwks` (keys fetched from a URL), or for HS* the shared secret.
  #[napi(
    ts_type = "string | Uint8Array | import('node:crypto').JsonWebKey | { keys: import('node:crypto').JsonWebKey[] } | import('node:crypto').KeyObject | import('./js/jwt.js').RemoteJwks"
  )]
  pub key: String,
  /// Accepted `iss` value(s); makes `iss` required.
  #[napi(ts_type = "string | string[]")]
  pub issuer: Option<String>,
  /// Accepted audience(s); makes `aud` required. Without it, a token carrying `aud` is refused.
  #[napi(ts_type = "string | string[]")]
  pub audience: Option<String>,
  /// Required `sub` value.
  pub subject: Option<String>,
  /// Seconds of clock skew allowed for `exp`, `nbf` and `iat` (0 to 3600). Default 0.
  pub clock_tolerance: Option<f64>,
  /// Largest token age in seconds, from `iat` (which it makes required).
  pub max_age: Option<u32>,
  /// Whether `exp` is required. Default true; false is weaker and must be chosen.
  pub require_exp: Option<bool>,
  /// Claims that must be present.
  pub required_claims: Option<Vec<String>>,
  /// Required `typ` header (compared case-insensitively, `application/` optional).
  pub typ: Option<String>,
  /// Extension headers your application processes, which tokens may list in `crit`.
  pub crit_headers: Option<Vec<String>>,
  /// Longest token accepted, in bytes, checked before any decoding. Default 16384.
  pub max_token_length: Option<u32>,
  /// Opt-in verified-token cache (off by default): a repeated token skips the signature check,
  /// never the `exp`/`nbf`/`maxAge` checks. Keyed by the whole token; `maxEntries` default 10000.
  #[napi(ts_type = "{ maxEntries?: number }")]
  pub cache: Option<String>,
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct JwtCallOptions {
  /// The time to check against or to sign at, in seconds since the epoch. Default: now.
  pub current_time: Option<f64>,
}

/// The header and payload of a token, decoded without any verification.
// Declares the TypeScript type only; the object is built from `JSON.parse` results.
#[allow(dead_code)]
#[napi(object, object_from_js = false)]
pub struct DecodedJwt {
  #[napi(ts_type = "import('./js/jwt.js').JwtHeader")]
  pub header: String,
  #[napi(ts_type = "import('./js/jwt.js').JwtPayload")]
  pub payload: String,
}

fn now_seconds() -> f64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map_or(0.0, |d| d.as_secs_f64())
}

/// The key option, read as a JWK/JWKS (objects), PEM or secret (strings and bytes).
enum KeyInput {
  Text(zeroize::Zeroizing<Vec<u8>>),
  Json(Value),
}

fn key_input(env: &Env, options: &Object<'_>) -> napi::Result<Result<KeyInput>> {
  let Some(value) = (match args::field(options, "key") {
    Ok(v) => v,
    Err(e) => return Ok(Err(e)),
  }) else {
    return Ok(Err(Error::arg_type(
      "options.key",
      "a PEM string, a Buffer, a JWK object or a KeyObject",
      "undefined",
    )));
  };
  match args::type_of(&value) {
    Some(ValueType::Object) if !value.is_typedarray().unwrap_or(false) => {
      let text = args::stringify(env, value)?;
      Ok(
        text
          .and_then(|text| serde_json::from_str(&text).ok())
          .map(KeyInput::Json)
          .ok_or_else(|| Error::arg_value("options.key", "is not a JWK object")),
      )
    }
    _ => Ok(args::secret_bytes(&value, "options.key").map(KeyInput::Text)),
  }
}

fn key_error(problem: impl std::fmt::Display) -> Error {
  Error::arg_value("options.key", problem)
}

/// Material from text or bytes: a PEM key, or else a secret (never a JWK in disguise).
fn material_from_bytes(bytes: &[u8]) -> Result<Material> {
  if pem::looks_like_pem(bytes) {
    return key::from_pem(bytes).map_err(key_error);
  }
  // A JWK (or JWKS) serialised to JSON is not a secret (fast-jwt GHSA-g3jj-5cmm-3hxx); random
  // secret bytes that merely start with `{` are.
  let is_jwk_text = matches!(
    serde_json::from_slice::<Value>(bytes),
    Ok(Value::Object(object)) if object.contains_key("kty") || object.contains_key("keys")
  );
  if is_jwk_text {
    return Err(key_error(
      "looks like JWK JSON text; pass the parsed object (JSON.parse) instead",
    ));
  }
  Ok(Material::Secret(zeroize::Zeroizing::new(bytes.to_vec())))
}

fn algorithm(name: &str, option: &str) -> Result<Alg> {
  if name.eq_ignore_ascii_case("none") {
    return Err(Error::arg_value(
      option,
      "is \"none\"; unsecured tokens are never signed or accepted",
    ));
  }
  Alg::from_name(name).ok_or_else(|| {
    Error::arg_value(
      option,
      "is not a supported algorithm (HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, \
       PS512, ES256, ES384, ES512, EdDSA, Ed25519)",
    )
  })
}

fn required_field<'env>(
  options: &Object<'env>,
  key: &str,
  expected: &str,
) -> Result<Unknown<'env>> {
  args::field(options, key)?
    .ok_or_else(|| Error::arg_type(&format!("options.{key}"), expected, "undefined"))
}

fn seconds_option(options: &Object<'_>, key: &str, min: u32) -> Result<Option<u32>> {
  args::opt_u32(Some(options), key, min, MAX_SECONDS_OPTION)
}

fn signer_config(env: &Env, options: &Unknown<'_>) -> napi::Result<Result<SignConfig>> {
  let options = match args::object(options, "options") {
    Ok(o) => o,
    Err(e) => return Ok(Err(e)),
  };
  let input = key_input(env, &options)?;
  Ok(input.and_then(|input| build_signer(&options, input)))
}

fn build_signer(options: &Object<'_>, input: KeyInput) -> Result<SignConfig> {
  let name = args::string(
    &required_field(options, "algorithm", "of type string")?,
    "options.algorithm",
  )?;
  let alg = algorithm(&name, "options.algorithm")?;
  let (material, jwk_kid) = match input {
    KeyInput::Text(bytes) => (material_from_bytes(&bytes)?, None),
    KeyInput::Json(jwk) => {
      let (material, kid, jwk_alg) = key::from_jwk(&jwk).map_err(key_error)?;
      if jwk_alg.is_some_and(|a| a != alg) {
        return Err(key_error("is a JWK whose \"alg\" is not options.algorithm"));
      }
      (material, kid)
    }
  };
  key::check_pair(&material, alg).map_err(key_error)?;
  let signer = Signer::new(material, alg).map_err(key_error)?;
  let key_id = args::opt_string(options, "keyId")?.or(jwk_kid);
  let typ = args::opt_string(options, "typ")?.unwrap_or_else(|| "JWT".to_owned());
  let audience = args::opt_strings(options, "audience", 100)?.map(|list| {
    if list.len() == 1 {
      Value::from(list[0].as_str()).to_string()
    } else {
      Value::from(list).to_string()
    }
  });
  let header = token::header_json(alg, Some(&typ), key_id.as_deref());
  let mut header_b64 = String::new();
  crate::b64::encode_url_into(header.as_bytes(), &mut header_b64);
  Ok(SignConfig {
    alg,
    signer,
    header_b64,
    issuer: args::opt_string(options, "issuer")?,
    audience,
    subject: args::opt_string(options, "subject")?,
    expires_in: Some(u64::from(
      seconds_option(options, "expiresIn", 1)?.unwrap_or(DEFAULT_EXPIRES_IN),
    )),
    not_before: seconds_option(options, "notBefore", 0)?.map(u64::from),
  })
}

fn verifier_config(env: &Env, options: &Unknown<'_>) -> napi::Result<Result<VerifyConfig>> {
  let options = match args::object(options, "options") {
    Ok(o) => o,
    Err(e) => return Ok(Err(e)),
  };
  let input = key_input(env, &options)?;
  Ok(input.and_then(|input| build_verifier(&options, input)))
}

fn algorithms(options: &Object<'_>) -> Result<Vec<Alg>> {
  let value = required_field(options, "algorithms", "an instance of Array")?;
  let names = args::array(&value, "options.algorithms", key::ALL.len())?;
  if names.is_empty() {
    return Err(Error::arg_value(
      "options.algorithms",
      "is empty; list the algorithms your tokens use",
    ));
  }
  let mut algs = Vec::new();
  for (i, name) in names.iter().enumerate() {
    let option = format!("options.algorithms[{i}]");
    let alg = algorithm(&args::string(name, &option)?, &option)?;
    if !algs.contains(&alg) {
      algs.push(alg);
    }
  }
  Ok(algs)
}

fn entry(material: Material, kid: Option<String>, alg: Option<Alg>, algs: &[Alg]) -> KeyEntry {
  KeyEntry {
    kid,
    alg,
    family: material.family(),
    verifier: Verifier::new(material, algs),
  }
}

fn build_verifier(options: &Object<'_>, input: KeyInput) -> Result<VerifyConfig> {
  let algs = algorithms(options)?;
  let (keys, key_set) = match input {
    KeyInput::Text(bytes) => {
      let material = material_from_bytes(&bytes)?;
      for &alg in &algs {
        key::check_pair(&material, alg).map_err(key_error)?;
      }
      (vec![entry(material, None, None, &algs)], false)
    }
    KeyInput::Json(Value::Object(set)) if set.contains_key("keys") => {
      (jwks_entries(set.get("keys"), &algs)?, true)
    }
    KeyInput::Json(jwk) => {
      let (material, kid, jwk_alg) = key::from_jwk(&jwk).map_err(key_error)?;
      for &alg in &algs {
        if jwk_alg.is_some_and(|a| a != alg) {
          return Err(key_error(format!(
            "is a JWK for \"alg\" {}, so it cannot verify {}",
            jwk_alg.map_or("", Alg::name),
            alg.name()
          )));
        }
        key::check_pair(&material, alg).map_err(key_error)?;
      }
      (vec![entry(material, kid, jwk_alg, &algs)], false)
    }
  };
  let policy = claims::Policy {
    issuer: args::opt_strings(options, "issuer", 100)?,
    audience: args::opt_strings(options, "audience", 100)?,
    subject: args::opt_string(options, "subject")?,
    clock_tolerance: match args::field(options, "clockTolerance")? {
      Some(v) => args::number_f64(&v, "options.clockTolerance", 0.0, 3600.0)?,
      None => 0.0,
    },
    max_age: seconds_option(options, "maxAge", 1)?.map(f64::from),
    require_exp: args::opt_bool(Some(options), "requireExp")?.unwrap_or(true),
    required: args::opt_strings(options, "requiredClaims", 100)?.unwrap_or_default(),
  };
  Ok(VerifyConfig {
    keys,
    key_set,
    algorithms: algs,
    policy,
    max_len: args::opt_u32(Some(options), "maxTokenLength", 16, MAX_TOKEN_LEN_LIMIT)?
      .map_or(token::DEFAULT_MAX_TOKEN_LEN, |n| n as usize),
    typ: args::opt_string(options, "typ")?.map(|t| token::normalize_typ(&t)),
    crit: args::opt_strings(options, "critHeaders", 100)?.unwrap_or_default(),
  })
}

/// The usable signing keys of a JWKS. Keys rampart cannot use (other key types or curves,
/// `use: "enc"`, algorithms not listed) are skipped, as JWKS endpoints publish such keys too;
/// a set with no usable key is an error.
fn jwks_entries(keys: Option<&Value>, algs: &[Alg]) -> Result<Vec<KeyEntry>> {
  let Some(Value::Array(jwks)) = keys else {
    return Err(key_error("is a JWKS whose \"keys\" is not an array"));
  };
  if jwks.len() > MAX_KEYS {
    return Err(Error::out_of_range(
      "options.key.keys",
      format!("an array of at most {MAX_KEYS} keys"),
    ));
  }
  let mut entries = Vec::new();
  let mut first_problem = None;
  for jwk in jwks {
    match key::from_jwk(jwk) {
      Ok((material, kid, jwk_alg)) => {
        let usable: Vec<Alg> = algs
          .iter()
          .copied()
          .filter(|&alg| {
            jwk_alg.is_none_or(|a| a == alg) && key::check_pair(&material, alg).is_ok()
          })
          .collect();
        if usable.is_empty() {
          first_problem.get_or_insert_with(|| {
            format!(
              "holds {} that suits none of options.algorithms",
              material.describe()
            )
          });
          continue;
        }
        entries.push(entry(material, kid, jwk_alg, &usable));
      }
      Err(problem) => {
        first_problem.get_or_insert(problem);
      }
    }
  }
  if entries.is_empty() {
    return Err(key_error(format!(
      "is a JWKS with no key usable for options.algorithms{}",
      first_problem.map_or(String::new(), |p| format!(" (a key {p})"))
    )));
  }
  Ok(entries)
}

fn current_time(options: Option<&Unknown<'_>>) -> Result<Option<f64>> {
  let Some(options) = args::options(options, "options")? else {
    return Ok(None);
  };
  args::field(&options, "currentTime")?
    .map(|v| args::number_f64(&v, "options.currentTime", 0.0, claims::MAX_SECONDS))
    .transpose()
}

fn time_arg(value: Option<&Unknown<'_>>) -> Result<Option<f64>> {
  match value {
    // `null` is absent, as napi-rs reads an `Option` argument.
    Some(v)
      if !matches!(
        args::type_of(v),
        Some(ValueType::Undefined | ValueType::Null)
      ) =>
    {
      args::number_f64(v, "currentTime", 0.0, claims::MAX_SECONDS).map(Some)
    }
    _ => Ok(None),
  }
}

/// Signs JWTs with one key and algorithm. The key is parsed once and cannot be read back.
#[napi]
pub struct JwtSigner {
  config: SignConfig,
}

#[napi]
impl JwtSigner {
  #[napi(constructor, catch_unwind, ts_args_type = "options: JwtSignerOptions")]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    let config = signer_config(&env, &options)?;
    throw(&env, config.map(|config| JwtSigner { config }))
  }

  /// Signs `payload` (a plain object of claims) and returns the compact token. Adds `iat` and
  /// `exp` (seconds), and `nbf`, `iss`, `aud`, `sub` from the options.
  #[napi(
    skip_typescript,
    catch_unwind,
    ts_args_type = "payload: import('./js/jwt.js').JwtPayload, options?: JwtCallOptions"
  )]
  pub fn sign(&self, env: Env, payload: Unknown, options: Option<Unknown>) -> napi::Result<String> {
    if args::type_of(&payload) != Some(ValueType::Object) || payload.is_array().unwrap_or(false) {
      return Err(
        Error::arg_type("payload", "a plain object", &args::describe(&payload)).into_napi(&env),
      );
    }
    let json = args::stringify(&env, payload)?.unwrap_or_default();
    let now = throw(&env, current_time(options.as_ref()))?;
    throw(&env, self.sign_json(&json, now))
  }

  /// Fast path behind `sign` (the package entry point wraps the class): `payload` is the JSON
  /// text of the claims object.
  #[napi(
    skip_typescript,
    catch_unwind,
    js_name = "_sign",
    ts_args_type = "payload: string, currentTime?: number"
  )]
  pub fn sign_fast(
    &self,
    env: Env,
    payload: Unknown,
    now: Option<Unknown>,
  ) -> napi::Result<String> {
    let signed = || {
      let payload = args::string(&payload, "payload")?;
      self.sign_json(&payload, time_arg(now.as_ref())?)
    };
    throw(&env, signed())
  }

  /// `header.payload` for the JSON text `payload`, unsigned: the package entry point signs RSA
  /// tokens with Node's OpenSSL, whose RSA private-key operation measured about twice as fast
  /// as ring's on x86-64 (see docs/jwt.md, design notes).
  #[napi(
    skip_typescript,
    catch_unwind,
    js_name = "_signingInput",
    ts_args_type = "payload: string, currentTime?: number"
  )]
  pub fn signing_input(
    &self,
    env: Env,
    payload: Unknown,
    now: Option<Unknown>,
  ) -> napi::Result<String> {
    let input = || {
      let payload = args::string(&payload, "payload")?;
      let now = time_arg(now.as_ref())?.unwrap_or_else(now_seconds).floor() as i64;
      self.config.signing_input(&payload, now)
    };
    throw(&env, input())
  }

  /// The algorithm this signer uses.
  #[napi(getter, ts_return_type = "import('./js/jwt.js').JwtAlgorithm")]
  pub fn algorithm(&self) -> &'static str {
    self.config.alg.name()
  }

  fn sign_json(&self, json: &str, now: Option<f64>) -> Result<String> {
    let now = now.unwrap_or_else(now_seconds).floor() as i64;
    self.config.sign(json, now)
  }
}

/// `_verify` bound to one verifier (see `src/bound.rs`): `(token, currentTime?)` to the payload
/// as JSON text.
struct Verify;

impl bound::Method for Verify {
  type Data = Rc<VerifyConfig>;
  const NAME: &'static str = "verify";
  fn call<'env>(
    config: &Rc<VerifyConfig>,
    env: &'env Env,
    [token, now]: &[Unknown<'env>; 2],
  ) -> Result<sys::napi_value> {
    let payload = verify_json(config, token, Some(now))?;
    text::create(env, &payload)
      .map(|v| v.raw())
      .map_err(|_| error::internal(env, "a string"))
  }
}

/// The body of `_verify`: the token's payload as JSON text.
fn verify_json(
  config: &VerifyConfig,
  token: &Unknown<'_>,
  now: Option<&Unknown<'_>>,
) -> Result<String> {
  let token = args::string(token, "token")?;
  let now = time_arg(now)?;
  config.verify(&token, now.unwrap_or_else(now_seconds))
}

/// Verifies JWTs against a key or key set with a strict claims policy.
#[napi]
pub struct JwtVerifier {
  /// Shared with the bound function of `_bound` (a verifier lives on one JS thread).
  config: Rc<VerifyConfig>,
}

#[napi]
impl JwtVerifier {
  #[napi(
    constructor,
    catch_unwind,
    ts_args_type = "options: JwtVerifierOptions"
  )]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    let config = verifier_config(&env, &options)?;
    throw(
      &env,
      config.map(|config| JwtVerifier {
        config: Rc::new(config),
      }),
    )
  }

  /// Verifies `token` (signature, algorithm, then claims) and returns its payload. Throws a
  /// coded error (`ERR_JWT_*`) otherwise; messages never include the token.
  #[napi(
    skip_typescript,
    catch_unwind,
    ts_args_type = "token: string, options?: JwtCallOptions",
    ts_return_type = "import('./js/jwt.js').JwtPayload"
  )]
  pub fn verify<'env>(
    &self,
    env: &'env Env,
    token: Unknown<'env>,
    options: Option<Unknown<'env>>,
  ) -> napi::Result<Unknown<'env>> {
    let verified = || {
      let token = args::string(&token, "token")?;
      let now = current_time(options.as_ref())?;
      self.verify_json(&token, now)
    };
    let payload = throw(env, verified())?;
    args::parse_json(env, &payload)
  }

  /// Fast path behind `verify`: returns the payload as JSON text.
  #[napi(
    skip_typescript,
    catch_unwind,
    js_name = "_verify",
    ts_args_type = "token: string, currentTime?: number"
  )]
  pub fn verify_fast(
    &self,
    env: Env,
    token: Unknown,
    now: Option<Unknown>,
  ) -> napi::Result<String> {
    throw(&env, verify_json(&self.config, &token, now.as_ref()))
  }

  /// `_verify` as a function bound to this verifier, for the JS wrapper (a class method call
  /// costs a few hundred nanoseconds more: see `src/bound.rs`).
  #[napi(js_name = "_bound", catch_unwind, skip_typescript)]
  pub fn bound<'env>(&self, env: &'env Env) -> napi::Result<Unknown<'env>> {
    throw(env, bound::function::<Verify>(env, self.config.clone()))
  }

  /// The accepted algorithms.
  #[napi(getter, ts_return_type = "import('./js/jwt.js').JwtAlgorithm[]")]
  pub fn algorithms(&self) -> Vec<&'static str> {
    self.config.algorithms.iter().map(|a| a.name()).collect()
  }

  fn verify_json(&self, token: &str, now: Option<f64>) -> Result<String> {
    self.config.verify(token, now.unwrap_or_else(now_seconds))
  }
}

/// Decodes a token's header and payload **without verifying anything**: for routing (reading
/// `kid` or `iss` before choosing a verifier) and debugging, never for trust decisions. Throws
/// `ERR_JWT_MALFORMED` for anything that is not a well-formed compact JWT.
#[napi(
  catch_unwind,
  ts_args_type = "token: string",
  ts_return_type = "DecodedJwt"
)]
pub fn decode_jwt_unverified<'env>(
  env: &'env Env,
  token: Unknown<'env>,
) -> napi::Result<Object<'env>> {
  let decoded = || {
    let token = args::string(&token, "token")?;
    token::decode_unverified(&token, token::DEFAULT_MAX_TOKEN_LEN)
  };
  let (header, payload) = throw(env, decoded())?;
  let mut out = Object::new(env)?;
  out.set_named_property("header", args::parse_json(env, &header)?)?;
  out.set_named_property("payload", args::parse_json(env, &payload)?)?;
  Ok(out)
}
