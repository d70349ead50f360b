//! The claims policy (RFC 7519 §4.1, RFC 8725): which registered claims a verified token must
//! carry, their types, and the time and audience checks. Pure logic, tested with `cargo test`.

use serde_json::Value;

use super::json::Claims;
use crate::error::{Code, Error, Result};

/// What a verifier requires of a token's claims.
#[derive(Debug, Clone, Default)]
pub struct Policy {
  /// Accepted `iss` values; the claim is required when set.
  pub issuer: Option<Vec<String>>,
  /// Accepted audiences; `aud` is required when set, and a token with `aud` is refused when
  /// unset (RFC 7519 §4.1.3).
  pub audience: Option<Vec<String>>,
  /// Required `sub` value.
  pub subject: Option<String>,
  /// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
  pub clock_tolerance: f64,
  /// Largest accepted age in seconds (makes `iat` required).
  pub max_age: Option<f64>,
  /// Whether `exp` is required (default true).
  pub require_exp: bool,
  /// Claims that must be present, whatever their value.
  pub required: Vec<String>,
}

/// Timestamps beyond this are milliseconds by mistake (`Date.now()`): year 5138 in seconds.
pub const MAX_SECONDS: f64 = 1e11;

fn number(claims_value: &Option<Value>, name: &str) -> Result<Option<f64>> {
  match claims_value {
    None => Ok(None),
    Some(Value::Number(n)) => n
      .as_f64()
      .map(Some)
      .ok_or_else(|| Error::claim(name, "is not a usable number")),
    Some(_) => Err(Error::claim(
      name,
      "must be a number of seconds (NumericDate)",
    )),
  }
}

fn string<'a>(claims_value: &'a Option<Value>, name: &str) -> Result<Option<&'a str>> {
  match claims_value {
    None => Ok(None),
    Some(Value::String(s)) => Ok(Some(s)),
    Some(_) => Err(Error::claim(name, "must be a string")),
  }
}

/// The audiences a token names: a string, or a non-empty array of strings.
pub fn audiences(value: &Option<Value>) -> Result<Option<Vec<&str>>> {
  match value {
    None => Ok(None),
    Some(Value::String(s)) => Ok(Some(vec![s.as_str()])),
    Some(Value::Array(items)) if !items.is_empty() => items
      .iter()
      .map(|item| match item {
        Value::String(s) => Ok(s.as_str()),
        _ => Err(Error::claim(
          "aud",
          "must be a string or an array of strings",
        )),
      })
      .collect::<Result<Vec<_>>>()
      .map(Some),
    Some(_) => Err(Error::claim(
      "aud",
      "must be a string or an array of strings",
    )),
  }
}

/// The registered claims' types, as checked on both sign and verify.
pub struct Typed<'a> {
  pub exp: Option<f64>,
  pub nbf: Option<f64>,
  pub iat: Option<f64>,
  pub iss: Option<&'a str>,
  pub sub: Option<&'a str>,
  pub aud: Option<Vec<&'a str>>,
}

pub fn typed(claims: &Claims) -> Result<Typed<'_>> {
  string(&claims.jti, "jti")?;
  Ok(Typed {
    exp: number(&claims.exp, "exp")?,
    nbf: number(&claims.nbf, "nbf")?,
    iat: number(&claims.iat, "iat")?,
    iss: string(&claims.iss, "iss")?,
    sub: string(&claims.sub, "sub")?,
    aud: audiences(&claims.aud)?,
  })
}

fn coded(code: Code, claim: &str, message: &str) -> Error {
  Error::with_claim(code, claim, message)
}

/// Checks a verified token's claims against `policy` at time `now` (seconds since the epoch).
pub fn check(claims: &Claims, policy: &Policy, now: f64) -> Result<()> {
  let t = typed(claims)?;
  let skew = policy.clock_tolerance;
  match t.exp {
    Some(exp) if now - skew >= exp => {
      return Err(coded(Code::JwtExpired, "exp", "The token has expired"))
    }
    None if policy.require_exp => return Err(Error::claim("exp", "is required")),
    _ => {}
  }
  if let Some(nbf) = t.nbf {
    if nbf > now + skew {
      return Err(coded(
        Code::JwtNotYetValid,
        "nbf",
        "The token is not valid yet",
      ));
    }
  }
  if let Some(iat) = t.iat {
    if iat > now + skew {
      return Err(Error::claim("iat", "is in the future"));
    }
  }
  if let Some(max_age) = policy.max_age {
    let iat = t
      .iat
      .ok_or_else(|| Error::claim("iat", "is required (maxAge is set)"))?;
    if now - iat > max_age + skew {
      return Err(coded(
        Code::JwtExpired,
        "iat",
        "The token is older than maxAge",
      ));
    }
  }
  if let Some(issuers) = &policy.issuer {
    match t.iss {
      None => return Err(Error::claim("iss", "is required")),
      Some(iss) if !issuers.iter().any(|i| i == iss) => {
        return Err(Error::claim("iss", "is not an accepted issuer"))
      }
      _ => {}
    }
  }
  match (&policy.audience, &t.aud) {
    (Some(_), None) => return Err(Error::claim("aud", "is required")),
    (Some(accepted), Some(named)) => {
      if !named.iter().any(|aud| accepted.iter().any(|a| a == aud)) {
        return Err(Error::claim("aud", "does not name an accepted audience"));
      }
    }
    (None, Some(_)) => {
      return Err(Error::claim(
        "aud",
        "is present but no audience is configured (set options.audience)",
      ))
    }
    (None, None) => {}
  }
  if let Some(subject) = &policy.subject {
    match t.sub {
      None => return Err(Error::claim("sub", "is required")),
      Some(sub) if sub != subject => {
        return Err(Error::claim("sub", "is not the expected subject"))
      }
      _ => {}
    }
  }
  for (index, name) in policy.required.iter().enumerate() {
    if !claims.found.get(index).copied().unwrap_or(false) {
      return Err(Error::claim(name, "is required"));
    }
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::super::json::parse_claims;
  use super::*;

  const NOW: f64 = 1_700_000_000.0;

  fn run(payload: &str, policy: &Policy) -> Result<()> {
    let claims = parse_claims(payload.as_bytes(), &policy.required).unwrap();
    check(&claims, policy, NOW)
  }

  fn strict() -> Policy {
    Policy {
      require_exp: true,
      ..Policy::default()
    }
  }

  fn code(result: Result<()>) -> (Code, Option<String>) {
    let e = result.unwrap_err();
    (e.code, e.claim)
  }

  #[test]
  fn expiry_boundaries_follow_rfc_7519() {
    let p = strict();
    assert!(run(r#"{"exp":1700000001}"#, &p).is_ok());
    assert_eq!(
      code(run(r#"{"exp":1700000000}"#, &p)),
      (Code::JwtExpired, Some("exp".into()))
    );
    assert_eq!(
      code(run("{}", &p)),
      (Code::JwtClaimInvalid, Some("exp".into()))
    );
    assert_eq!(
      code(run(r#"{"exp":"9999999999"}"#, &p)),
      (Code::JwtClaimInvalid, Some("exp".into()))
    );
    let lenient = Policy {
      clock_tolerance: 5.0,
      ..strict()
    };
    assert!(run(r#"{"exp":1699999996}"#, &lenient).is_ok());
    assert!(run("{}", &Policy::default()).is_ok());
  }

  #[test]
  fn nbf_iat_and_max_age() {
    let p = strict();
    assert_eq!(
      code(run(r#"{"exp":1800000000,"nbf":1700000001}"#, &p)),
      (Code::JwtNotYetValid, Some("nbf".into()))
    );
    assert!(run(r#"{"exp":1800000000,"nbf":1700000000}"#, &p).is_ok());
    assert_eq!(
      code(run(r#"{"exp":1800000000,"iat":1700000060}"#, &p)),
      (Code::JwtClaimInvalid, Some("iat".into()))
    );
    assert_eq!(
      code(run(r#"{"exp":1800000000,"nbf":"0"}"#, &p)),
      (Code::JwtClaimInvalid, Some("nbf".into()))
    );
    let aged = Policy {
      max_age: Some(60.0),
      ..strict()
    };
    assert!(run(r#"{"exp":1800000000,"iat":1699999940}"#, &aged).is_ok());
    assert_eq!(
      code(run(r#"{"exp":1800000000,"iat":1699999939}"#, &aged)),
      (Code::JwtExpired, Some("iat".into()))
    );
    assert_eq!(
      code(run(r#"{"exp":1800000000}"#, &aged)),
      (Code::JwtClaimInvalid, Some("iat".into()))
    );
  }

  #[test]
  fn issuer_audience_subject_and_required_claims() {
    let p = Policy {
      issuer: Some(vec!["api".into()]),
      audience: Some(vec!["app".into(), "admin".into()]),
      subject: Some("42".into()),
      required: vec!["scope".into()],
      ..strict()
    };
    let good = r#"{"exp":1800000000,"iss":"api","aud":["x","admin"],"sub":"42","scope":"r"}"#;
    assert!(run(good, &p).is_ok());
    for (payload, claim) in [
      (
        r#"{"exp":1800000000,"iss":["api"],"aud":"app","sub":"42","scope":1}"#,
        "iss",
      ),
      (
        r#"{"exp":1800000000,"iss":"API","aud":"app","sub":"42","scope":1}"#,
        "iss",
      ),
      (
        r#"{"exp":1800000000,"iss":"api","aud":"apps","sub":"42","scope":1}"#,
        "aud",
      ),
      (
        r#"{"exp":1800000000,"iss":"api","aud":[],"sub":"42","scope":1}"#,
        "aud",
      ),
      (
        r#"{"exp":1800000000,"iss":"api","aud":[1],"sub":"42","scope":1}"#,
        "aud",
      ),
      (
        r#"{"exp":1800000000,"iss":"api","sub":"42","scope":1}"#,
        "aud",
      ),
      (
        r#"{"exp":1800000000,"iss":"api","aud":"app","sub":42,"scope":1}"#,
        "sub",
      ),
      (
        r#"{"exp":1800000000,"iss":"api","aud":"app","sub":"43","scope":1}"#,
        "sub",
      ),
      (
        r#"{"exp":1800000000,"iss":"api","aud":"app","sub":"42"}"#,
        "scope",
      ),
      (
        r#"{"exp":1800000000,"iss":"api","aud":"app","sub":"42","scope":1,"jti":7}"#,
        "jti",
      ),
    ] {
      assert_eq!(
        code(run(payload, &p)),
        (Code::JwtClaimInvalid, Some(claim.into())),
        "{payload}"
      );
    }
    assert_eq!(
      code(run(r#"{"exp":1800000000,"aud":"app"}"#, &strict())),
      (Code::JwtClaimInvalid, Some("aud".into()))
    );
  }
}
