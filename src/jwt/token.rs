//! Compact JWS/JWT signing and verification (RFC 7515 §7.1, RFC 7519 §7), free of JavaScript:
//! the bindings in `mod.rs` only read options and hand strings in and out.

use serde_json::Value;

use super::claims::{self, Policy};
use super::json::{self, Problem};
use super::key::{Alg, Family, Signer, Verifier};
use crate::b64;
use crate::error::{Code, Error, Result};

/// Default `maxTokenLength`: above any token an Authorization header or cookie carries, far below
/// what would make parsing costly.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

fn malformed(message: &str) -> Error {
  Error::new(Code::JwtMalformed, message)
}

fn segment_problem(segment: &str, problem: Problem) -> Error {
  Error::new(
    Code::JwtMalformed,
    format!("The token's {segment} {problem}"),
  )
}

/// The three segments of a compact token, checked for size first.
pub struct Parts<'t> {
  pub header: &'t str,
  pub payload: &'t str,
  pub signature: &'t str,
  pub signing_input: &'t str,
}

pub fn split(token: &str, max_len: usize) -> Result<Parts<'_>> {
  if token.len() > max_len {
    return Err(malformed(&format!(
      "The token is longer than maxTokenLength ({max_len} bytes)"
    )));
  }
  let mut segments = token.split('.');
  let (Some(header), Some(payload), Some(signature), None) = (
    segments.next(),
    segments.next(),
    segments.next(),
    segments.next(),
  ) else {
    return Err(malformed(
      "The token is not a compact JWS (three base64url segments separated by dots)",
    ));
  };
  if header.is_empty() || payload.is_empty() {
    return Err(malformed(
      "The token has an empty header or payload segment",
    ));
  }
  Ok(Parts {
    header,
    payload,
    signature,
    signing_input: &token[..header.len() + 1 + payload.len()],
  })
}

fn decode_segment(segment: &str, name: &str) -> Result<Vec<u8>> {
  b64::decode_url(segment).ok_or_else(|| {
    malformed(&format!(
      "The token's {name} is not canonical unpadded base64url"
    ))
  })
}

/// Decodes header and payload without checking anything but their form (`decodeJwtUnverified`).
pub fn decode_unverified(token: &str, max_len: usize) -> Result<(String, String)> {
  let parts = split(token, max_len)?;
  let header = decode_segment(parts.header, "header")?;
  json::parse_header(&header).map_err(|p| segment_problem("header", p))?;
  let payload = decode_segment(parts.payload, "payload")?;
  json::parse_claims(&payload, &[]).map_err(|p| segment_problem("payload", p))?;
  // Both parsed as UTF-8 JSON above.
  Ok((
    String::from_utf8(header).map_err(|_| malformed("The token's header is not UTF-8"))?,
    String::from_utf8(payload).map_err(|_| malformed("The token's payload is not UTF-8"))?,
  ))
}

/// Normalises a `typ` value for comparison (RFC 7515 §4.1.9: case-insensitive, and
/// `application/` may be omitted).
pub fn normalize_typ(typ: &str) -> String {
  let lower = typ.to_ascii_lowercase();
  match lower.strip_prefix("application/") {
    Some(rest) => rest.to_owned(),
    None => lower,
  }
}

/// One verification key with what it may be used for.
pub struct KeyEntry {
  pub kid: Option<String>,
  /// The JWK's own `alg`, when it names one.
  pub alg: Option<Alg>,
  pub family: Family,
  pub verifier: Verifier,
}

impl KeyEntry {
  fn serves(&self, alg: Alg) -> bool {
    self.family == alg.family() && self.alg.is_none_or(|a| a == alg)
  }
}

/// Everything a `JwtVerifier` checks.
pub struct VerifyConfig {
  pub keys: Vec<KeyEntry>,
  /// Whether keys come from a JWKS (chosen by `kid`) rather than one key.
  pub key_set: bool,
  pub algorithms: Vec<Alg>,
  pub policy: Policy,
  pub max_len: usize,
  /// Required `typ` header, normalised.
  pub typ: Option<String>,
  /// Extension header names the application understands (`crit` may list only these).
  pub crit: Vec<String>,
}

fn header_string<'h>(value: &'h Option<Value>, name: &str) -> Result<Option<&'h str>> {
  match value {
    None => Ok(None),
    Some(Value::String(s)) => Ok(Some(s)),
    Some(_) => Err(malformed(&format!(
      "The token's \"{name}\" header is not a string"
    ))),
  }
}

/// Header parameter names defined by RFC 7515/7519, which `crit` must not list.
const REGISTERED_HEADERS: [&str; 11] = [
  "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
];

impl VerifyConfig {
  /// Verifies `token` at `now` (seconds) and returns its payload as JSON text.
  pub fn verify(&self, token: &str, now: f64) -> Result<String> {
    let parts = split(token, self.max_len)?;
    let header_bytes = decode_segment(parts.header, "header")?;
    let header = json::parse_header(&header_bytes).map_err(|p| segment_problem("header", p))?;

    let alg_name = header_string(&header.alg, "alg")?
      .ok_or_else(|| malformed("The token has no \"alg\" header"))?;
    if alg_name.eq_ignore_ascii_case("none") {
      return Err(Error::new(
        Code::JwtAlgNotAllowed,
        "Unsecured tokens (alg \"none\") are never accepted",
      ));
    }
    let alg = Alg::from_name(alg_name)
      .filter(|alg| self.algorithms.contains(alg))
      .ok_or_else(|| {
        Error::new(
          Code::JwtAlgNotAllowed,
          "The token's \"alg\" is not in options.algorithms",
        )
      })?;
    self.check_crit(&header)?;
    if let Some(expected) = &self.typ {
      let typ = header_string(&header.typ, "typ")?;
      if typ.map(normalize_typ).as_deref() != Some(expected.as_str()) {
        return Err(Error::claim("typ", "header is not the expected type"));
      }
    }
    let kid = header_string(&header.kid, "kid")?;
    let key = self.select_key(alg, kid)?;

    let signature = decode_segment(parts.signature, "signature")?;
    if !key
      .verifier
      .verify(alg, parts.signing_input.as_bytes(), &signature)
    {
      return Err(Error::new(
        Code::JwtSignatureInvalid,
        "The token's signature is not valid",
      ));
    }

    let payload = decode_segment(parts.payload, "payload")?;
    let claims = json::parse_claims(&payload, &self.policy.required)
      .map_err(|p| segment_problem("payload", p))?;
    claims::check(&claims, &self.policy, now)?;
    String::from_utf8(payload).map_err(|_| malformed("The token's payload is not UTF-8"))
  }

  fn check_crit(&self, header: &json::Header) -> Result<()> {
    let Some(crit) = &header.crit else {
      return Ok(());
    };
    let invalid = || malformed("The token's \"crit\" header is not a non-empty array of names");
    let Value::Array(names) = crit else {
      return Err(invalid());
    };
    if names.is_empty() {
      return Err(invalid());
    }
    for name in names {
      let Value::String(name) = name else {
        return Err(invalid());
      };
      if REGISTERED_HEADERS.contains(&name.as_str())
        || !header.names.iter().any(|n| n.as_ref() == name.as_str())
      {
        return Err(invalid());
      }
      if !self.crit.iter().any(|c| c == name) {
        return Err(malformed(
          "The token's \"crit\" header lists an extension this verifier does not understand",
        ));
      }
    }
    Ok(())
  }

  fn select_key(&self, alg: Alg, kid: Option<&str>) -> Result<&KeyEntry> {
    let not_allowed = || {
      Error::new(
        Code::JwtAlgNotAllowed,
        "The token's \"alg\" does not match the verification key",
      )
    };
    if !self.key_set {
      let key = self.keys.first().ok_or_else(not_allowed)?;
      return if key.serves(alg) {
        Ok(key)
      } else {
        Err(not_allowed())
      };
    }
    let mut candidates = self.keys.iter().filter(|k| match kid {
      Some(kid) => k.kid.as_deref() == Some(kid),
      None => true,
    });
    match kid {
      Some(_) => {
        let named: Vec<&KeyEntry> = candidates.collect();
        if named.is_empty() {
          return Err(Error::new(
            Code::JwtKeyNotFound,
            "No key matches the token's \"kid\"",
          ));
        }
        named
          .into_iter()
          .find(|k| k.serves(alg))
          .ok_or_else(not_allowed)
      }
      None => {
        let first = candidates.find(|k| k.serves(alg));
        let more = self.keys.iter().filter(|k| k.serves(alg)).count() > 1;
        match first {
          Some(key) if !more => Ok(key),
          _ => Err(Error::new(
            Code::JwtKeyNotFound,
            "The token has no \"kid\" and the key set does not hold exactly one key for its \"alg\"",
          )),
        }
      }
    }
  }
}

/// Everything a `JwtSigner` puts in a token.
pub struct SignConfig {
  pub alg: Alg,
  pub signer: Signer,
  /// base64url of the header JSON, computed once.
  pub header_b64: String,
  pub issuer: Option<String>,
  /// `aud` as JSON text (a string or an array of strings).
  pub audience: Option<String>,
  pub subject: Option<String>,
  pub expires_in: Option<u64>,
  pub not_before: Option<u64>,
}

fn payload_error(problem: Problem) -> Error {
  match problem {
    Problem::NotObject => Error::arg_type("payload", "a plain object", "another JSON value"),
    other => Error::arg_value("payload", format!("{other}")),
  }
}

fn check_seconds(value: Option<f64>, name: &str) -> Result<()> {
  match value {
    Some(v) if v.abs() >= claims::MAX_SECONDS => Err(Error::out_of_range(
      &format!("payload.{name}"),
      "a time in seconds since the epoch; this looks like milliseconds \
       (use Math.floor(Date.now() / 1000))",
    )),
    _ => Ok(()),
  }
}

impl SignConfig {
  /// Signs the JSON object text `payload` at `now` (whole seconds), adding `iat`, `exp`, `nbf`,
  /// `iss`, `aud` and `sub` from the options where the payload does not set them.
  pub fn sign(&self, payload: &str, now: i64) -> Result<String> {
    let claims = self.claims_json(payload, now)?;
    self.sign_parts(claims.as_bytes())
  }

  /// The claims JSON a token signed at `now` carries (see [`SignConfig::sign`]).
  fn claims_json(&self, payload: &str, now: i64) -> Result<String> {
    let claims = json::parse_claims(payload.as_bytes(), &[]).map_err(payload_error)?;
    let typed = claims::typed(&claims).map_err(|e| {
      let claim = e.claim.unwrap_or_default();
      Error::arg_value(
        &format!("payload.{claim}"),
        "has the wrong type for a registered claim",
      )
    })?;
    check_seconds(typed.exp, "exp")?;
    check_seconds(typed.nbf, "nbf")?;
    check_seconds(typed.iat, "iat")?;
    for (set, present, name, option) in [
      (self.issuer.is_some(), claims.iss.is_some(), "iss", "issuer"),
      (
        self.audience.is_some(),
        claims.aud.is_some(),
        "aud",
        "audience",
      ),
      (
        self.subject.is_some(),
        claims.sub.is_some(),
        "sub",
        "subject",
      ),
    ] {
      if set && present {
        return Err(Error::arg_value(
          &format!("payload.{name}"),
          format!("conflicts with the signer's options.{option}; set it in one place"),
        ));
      }
    }

    let mut json = String::with_capacity(payload.len() + 96);
    // A parsed object's text ends with `}` once JSON whitespace is trimmed.
    let body = payload
      .trim_end_matches([' ', '\t', '\n', '\r'])
      .strip_suffix('}')
      .ok_or_else(|| Error::arg_value("payload", "is not a JSON object"))?;
    json.push_str(body);
    let mut first = claims.members == 0;
    let mut add = |name: &str, value: &str| {
      if !first {
        json.push(',');
      }
      first = false;
      json.push('"');
      json.push_str(name);
      json.push_str("\":");
      json.push_str(value);
    };
    if claims.iat.is_none() {
      add("iat", &now.to_string());
    }
    if let (None, Some(seconds)) = (&claims.exp, self.expires_in) {
      add("exp", &(now + seconds as i64).to_string());
    }
    if let (None, Some(seconds)) = (&claims.nbf, self.not_before) {
      add("nbf", &(now + seconds as i64).to_string());
    }
    if let Some(issuer) = &self.issuer {
      add("iss", &Value::from(issuer.as_str()).to_string());
    }
    if let Some(audience) = &self.audience {
      add("aud", audience);
    }
    if let Some(subject) = &self.subject {
      add("sub", &Value::from(subject.as_str()).to_string());
    }
    json.push('}');
    Ok(json)
  }

  /// `header.payload` without the signature, for a caller that signs it elsewhere.
  pub fn signing_input(&self, payload: &str, now: i64) -> Result<String> {
    let claims = self.claims_json(payload, now)?;
    let mut input = String::with_capacity(self.header_b64.len() + claims.len() * 4 / 3 + 4);
    input.push_str(&self.header_b64);
    input.push('.');
    b64::encode_url_into(claims.as_bytes(), &mut input);
    Ok(input)
  }

  /// `header.payload.signature` for raw payload bytes.
  pub fn sign_parts(&self, payload: &[u8]) -> Result<String> {
    let mut token = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 400);
    token.push_str(&self.header_b64);
    token.push('.');
    b64::encode_url_into(payload, &mut token);
    let signature = self.signer.sign(token.as_bytes()).ok_or_else(|| {
      Error::new(
        Code::Internal,
        "signing failed (for RS*/PS*/ES256/ES384: the system random number generator failed)",
      )
    })?;
    token.push('.');
    b64::encode_url_into(&signature, &mut token);
    Ok(token)
  }
}

/// The protected header a signer writes: `alg`, then `typ` and `kid` when set.
pub fn header_json(alg: Alg, typ: Option<&str>, kid: Option<&str>) -> String {
  let mut header = serde_json::Map::new();
  header.insert("alg".into(), Value::from(alg.name()));
  if let Some(typ) = typ {
    header.insert("typ".into(), Value::from(typ));
  }
  if let Some(kid) = kid {
    header.insert("kid".into(), Value::from(kid));
  }
  Value::Object(header).to_string()
}

#[cfg(test)]
mod tests {
  use super::super::key::{self, Material};
  use super::*;

  const VECTORS: &str = include_str!("../../__test__/fixtures/jwt-vectors.json");

  fn signer_for(alg: Alg, jwk: &Value, header_b64: &str) -> SignConfig {
    let (material, _, _) = key::from_jwk(jwk).unwrap();
    SignConfig {
      alg,
      signer: Signer::new(material, alg).unwrap(),
      header_b64: header_b64.to_owned(),
      issuer: None,
      audience: None,
      subject: None,
      expires_in: None,
      not_before: None,
    }
  }

  /// RFC 7515 A.1-A.4, RFC 7520 4.1/4.2/4.4 and RFC 8037 A.4: deterministic algorithms reproduce the
  /// published token byte for byte; every vector's signature verifies, and fails when flipped.
  #[test]
  fn known_answer_vectors() {
    let fixture: Value = serde_json::from_str(VECTORS).unwrap();
    let vectors = fixture["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 8);
    for v in vectors {
      let name = v["name"].as_str().unwrap();
      let alg = Alg::from_name(v["alg"].as_str().unwrap()).unwrap();
      let token = v["token"].as_str().unwrap();
      let parts = split(token, DEFAULT_MAX_TOKEN_LEN).unwrap();
      let payload = b64::decode_url(parts.payload).unwrap();
      let signer = signer_for(alg, &v["jwk"], parts.header);
      let ours = signer.sign_parts(&payload).unwrap();
      if v["deterministic"].as_bool().unwrap() {
        assert_eq!(ours, token, "{name}");
      }
      let (material, _, _) = key::from_jwk(&v["jwk"]).unwrap();
      let verifier = Verifier::new(material, &[alg]);
      let signature = b64::decode_url(parts.signature).unwrap();
      assert!(
        verifier.verify(alg, parts.signing_input.as_bytes(), &signature),
        "{name}"
      );
      let ours_parts = split(&ours, DEFAULT_MAX_TOKEN_LEN).unwrap();
      let ours_sig = b64::decode_url(ours_parts.signature).unwrap();
      assert!(
        verifier.verify(alg, ours_parts.signing_input.as_bytes(), &ours_sig),
        "{name}"
      );
      let mut flipped = signature.clone();
      flipped[5] ^= 1;
      assert!(
        !verifier.verify(alg, parts.signing_input.as_bytes(), &flipped),
        "{name}"
      );
    }
  }

  #[test]
  fn sign_adds_claims_without_duplicating_them() {
    let secret = Material::Secret(zeroize::Zeroizing::new(vec![1; 32]));
    let mut config = SignConfig {
      alg: Alg::HS256,
      signer: Signer::new(secret, Alg::HS256).unwrap(),
      header_b64: "eyJhbGciOiJIUzI1NiJ9".into(),
      issuer: Some("api".into()),
      audience: Some("[\"a\",\"b\"]".into()),
      subject: None,
      expires_in: Some(900),
      not_before: Some(10),
    };
    let payload = |token: &str| {
      let parts = split(token, DEFAULT_MAX_TOKEN_LEN).unwrap();
      String::from_utf8(b64::decode_url(parts.payload).unwrap()).unwrap()
    };
    assert_eq!(
      payload(&config.sign("{}", 1000).unwrap()),
      r#"{"iat":1000,"exp":1900,"nbf":1010,"iss":"api","aud":["a","b"]}"#
    );
    assert_eq!(
      payload(&config.sign("{\"exp\":5000,\"x\":1} \n", 1000).unwrap()),
      r#"{"exp":5000,"x":1,"iat":1000,"nbf":1010,"iss":"api","aud":["a","b"]}"#
    );
    for (bad, code) in [
      (r#"{"iss":"other"}"#, Code::InvalidArgValue),
      (r#"{"exp":"soon"}"#, Code::InvalidArgValue),
      (r#"{"iat":1700000000000}"#, Code::OutOfRange),
      (r#"{"a":1,"a":2}"#, Code::InvalidArgValue),
      ("[1]", Code::InvalidArgType),
    ] {
      assert_eq!(config.sign(bad, 1000).unwrap_err().code, code, "{bad}");
    }
    config.issuer = None;
    config.audience = None;
    config.not_before = None;
    assert_eq!(
      payload(&config.sign(r#"{"iss":"me","iat":7}"#, 1000).unwrap()),
      r#"{"iss":"me","iat":7,"exp":1900}"#
    );
  }
}
