//! rampart's pure cores, compiled without napi for the fuzz targets.
//!
//! The addon is a `cdylib` whose `*/mod.rs` files are napi bindings, so this crate does not
//! depend on it. Instead it compiles the very same core files from `../src` with `#[path]`,
//! mirroring their module tree (`crate::error`, `crate::b64`, `super::...` resolve as in the
//! addon). `error.rs` keeps its JavaScript conversions behind `#[cfg(not(fuzzing))]`, a cfg that
//! cargo fuzz sets. Nothing here is a copy: a change to a core is fuzzed as it is.
#![allow(dead_code, unused_imports, clippy::all)]

#[path = "../../src/error.rs"]
pub mod error;

#[path = "../../src/b64.rs"]
pub mod b64;

pub mod jwt;

pub mod aead;

pub mod password;

pub mod redact;

pub mod ratelimit;

/// Shared set-up for the fuzz targets (keys from the committed test vectors).
pub mod support {
  use crate::jwt::claims::Policy;
  use crate::jwt::key::{self, Alg, Signer, Verifier};
  use crate::jwt::token::{self, KeyEntry, SignConfig, VerifyConfig};

  const VECTORS: &str = include_str!("../../__test__/fixtures/jwt-vectors.json");

  /// A signer and a verifier for the vector named `name` (its JWK and algorithm).
  pub fn jwt_pair(name: &str) -> (SignConfig, VerifyConfig) {
    let fixture: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
    let v = fixture["vectors"]
      .as_array()
      .unwrap()
      .iter()
      .find(|v| v["name"] == name)
      .unwrap_or_else(|| panic!("no vector {name}"));
    let alg = Alg::from_name(v["alg"].as_str().unwrap()).unwrap();
    let (material, _, _) = key::from_jwk(&v["jwk"]).unwrap();
    let signer = Signer::new(material, alg).unwrap();
    let (public, _, _) = key::from_jwk(&v["jwk"]).unwrap();
    let family = public.family();
    let mut header_b64 = String::new();
    crate::b64::encode_url_into(
      token::header_json(alg, Some("JWT"), None).as_bytes(),
      &mut header_b64,
    );
    let sign = SignConfig {
      alg,
      signer,
      header_b64,
      issuer: None,
      audience: None,
      subject: None,
      expires_in: None,
      not_before: None,
    };
    let verify = VerifyConfig {
      keys: vec![KeyEntry {
        kid: None,
        alg: None,
        family,
        verifier: Verifier::new(public, &[alg]),
      }],
      key_set: false,
      algorithms: vec![alg],
      policy: Policy {
        issuer: None,
        audience: None,
        subject: None,
        clock_tolerance: 0.0,
        max_age: None,
        require_exp: false,
        required: Vec::new(),
      },
      max_len: token::DEFAULT_MAX_TOKEN_LEN,
      typ: None,
      crit: Vec::new(),
    };
    (sign, verify)
  }

  /// `token` with one bit of its decoded signature changed (`None` when the token has no
  /// decodable, non-empty signature segment).
  pub fn flip_signature(token: &str, at: usize, mask: u8) -> Option<String> {
    let dot = token.rfind('.')?;
    let mut signature = crate::b64::decode_url(&token[dot + 1..])?;
    if signature.is_empty() {
      return None;
    }
    let i = at % signature.len();
    signature[i] ^= mask.max(1);
    let mut out = token[..=dot].to_owned();
    crate::b64::encode_url_into(&signature, &mut out);
    Some(out)
  }
}
