//! Strict reading of a JOSE header and a JWT claims set.
//!
//! One serde pass over each segment: the top level must be a JSON object with no repeated
//! member name (RFC 7519 §4 and RFC 7515 §5.2 allow rejecting them, and a verifier and an app that
//! disagree on which duplicate wins is how claims get smuggled), nesting is capped, and only the
//! members rampart checks are kept. Everything else is validated as JSON and skipped.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Deepest nesting accepted inside a header or payload (the top-level object is depth 1).
pub const MAX_DEPTH: usize = 32;

/// The header members rampart reads. `names` lists every member, for the `crit` check.
#[derive(Debug, Default)]
pub struct Header<'a> {
  pub alg: Option<Value>,
  pub kid: Option<Value>,
  pub typ: Option<Value>,
  pub crit: Option<Value>,
  /// Borrowed from the input (copied only when a name has escapes).
  pub names: Vec<Cow<'a, str>>,
}

/// The registered claims of a payload, as found (types are checked by the claims policy), and
/// which of the `wanted` names were present.
#[derive(Debug, Default)]
pub struct Claims {
  pub exp: Option<Value>,
  pub nbf: Option<Value>,
  pub iat: Option<Value>,
  pub iss: Option<Value>,
  pub sub: Option<Value>,
  pub aud: Option<Value>,
  pub jti: Option<Value>,
  pub found: Vec<bool>,
  /// How many members the object has.
  pub members: usize,
}

/// Why a segment was refused. The text never quotes the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
  NotJson,
  NotObject,
  Duplicate,
  TooDeep,
}

impl fmt::Display for Problem {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(match self {
      Problem::NotJson => "is not valid UTF-8 JSON",
      Problem::NotObject => "is not a JSON object",
      Problem::Duplicate => "repeats a member name",
      Problem::TooDeep => "is nested too deeply",
    })
  }
}

pub fn parse_header(bytes: &[u8]) -> Result<Header<'_>, Problem> {
  let mut header = Header::default();
  walk(bytes, &mut header)?;
  Ok(header)
}

/// Parses a claims set, noting which of `wanted` are present.
pub fn parse_claims(bytes: &[u8], wanted: &[String]) -> Result<Claims, Problem> {
  let mut sink = ClaimsSink {
    claims: Claims {
      found: vec![false; wanted.len()],
      ..Claims::default()
    },
    wanted,
  };
  walk(bytes, &mut sink)?;
  Ok(sink.claims)
}

/// Where each member's value goes: `Some(slot)` to keep it, `None` to validate and skip it.
trait Sink<'de> {
  fn slot(&mut self, name: Cow<'de, str>) -> Option<&mut Option<Value>>;
}

impl<'de> Sink<'de> for Header<'de> {
  fn slot(&mut self, name: Cow<'de, str>) -> Option<&mut Option<Value>> {
    let field = ["alg", "kid", "typ", "crit"]
      .iter()
      .position(|f| *f == name.as_ref());
    self.names.push(name);
    match field? {
      0 => Some(&mut self.alg),
      1 => Some(&mut self.kid),
      2 => Some(&mut self.typ),
      _ => Some(&mut self.crit),
    }
  }
}

struct ClaimsSink<'w> {
  claims: Claims,
  wanted: &'w [String],
}

impl<'de> Sink<'de> for ClaimsSink<'_> {
  fn slot(&mut self, name: Cow<'de, str>) -> Option<&mut Option<Value>> {
    let name = name.as_ref();
    self.claims.members += 1;
    if let Some(index) = self.wanted.iter().position(|w| w == name) {
      self.claims.found[index] = true;
    }
    let c = &mut self.claims;
    match name {
      "exp" => Some(&mut c.exp),
      "nbf" => Some(&mut c.nbf),
      "iat" => Some(&mut c.iat),
      "iss" => Some(&mut c.iss),
      "sub" => Some(&mut c.sub),
      "aud" => Some(&mut c.aud),
      "jti" => Some(&mut c.jti),
      _ => None,
    }
  }
}

/// Walks the members of a top-level object into `sink`.
fn walk<'a>(bytes: &'a [u8], sink: &mut dyn Sink<'a>) -> Result<(), Problem> {
  let text = std::str::from_utf8(bytes).map_err(|_| Problem::NotJson)?;
  let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r']);
  if !trimmed.starts_with('{') {
    return Err(if serde_json::from_str::<IgnoredAny>(text).is_ok() {
      Problem::NotObject
    } else {
      Problem::NotJson
    });
  }
  let mut de = serde_json::Deserializer::from_str(text);
  let mut problem = None;
  let result = de.deserialize_map(TopLevel {
    sink,
    problem: &mut problem,
  });
  match (result, problem) {
    (_, Some(problem)) => Err(problem),
    (Err(_), None) => Err(Problem::NotJson),
    (Ok(()), None) => de.end().map_err(|_| Problem::NotJson),
  }
}

struct TopLevel<'de, 'a> {
  sink: &'a mut dyn Sink<'de>,
  problem: &'a mut Option<Problem>,
}

impl<'de> Visitor<'de> for TopLevel<'de, '_> {
  type Value = ();

  fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("a JSON object")
  }

  fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
    let mut seen = Seen::default();
    while let Some(Name(name)) = map.next_key::<Name>()? {
      if !seen.insert(name.clone()) {
        *self.problem = Some(Problem::Duplicate);
        return Err(de::Error::custom("duplicate"));
      }
      match self.sink.slot(name) {
        Some(slot) => {
          *slot = Some(map.next_value_seed(Limited {
            depth: 2,
            problem: &mut *self.problem,
          })?);
        }
        None => map.next_value_seed(Skip {
          depth: 2,
          problem: &mut *self.problem,
        })?,
      }
    }
    Ok(())
  }
}

/// Member names seen so far, borrowed from the input: a list while small, a hash set after that.
#[derive(Default)]
struct Seen<'de> {
  small: Vec<Cow<'de, str>>,
  large: std::collections::HashSet<Cow<'de, str>>,
}

impl<'de> Seen<'de> {
  fn insert(&mut self, name: Cow<'de, str>) -> bool {
    if self.large.is_empty() && self.small.len() < 24 {
      if self.small.contains(&name) {
        return false;
      }
      self.small.push(name);
      return true;
    }
    if self.large.is_empty() {
      self.large.extend(self.small.drain(..));
    }
    self.large.insert(name)
  }
}

/// A member name, borrowed from the input when it has no escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Name<'de> {
  fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
      type Value = Name<'de>;
      fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
      }
      fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Borrowed(v)))
      }
      fn visit_str<E>(self, v: &str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(v.to_owned())))
      }
    }
    deserializer.deserialize_str(V)
  }
}

fn too_deep<E: de::Error>(problem: &mut Option<Problem>) -> E {
  *problem = Some(Problem::TooDeep);
  E::custom("too deep")
}

/// Validates and discards a value, refusing nesting deeper than [`MAX_DEPTH`].
struct Skip<'p> {
  depth: usize,
  problem: &'p mut Option<Problem>,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
  type Value = ();
  fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
    deserializer.deserialize_any(self)
  }
}

impl<'de> Visitor<'de> for Skip<'_> {
  type Value = ();

  fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("a JSON value")
  }
  fn visit_bool<E>(self, _: bool) -> Result<(), E> {
    Ok(())
  }
  fn visit_i64<E>(self, _: i64) -> Result<(), E> {
    Ok(())
  }
  fn visit_u64<E>(self, _: u64) -> Result<(), E> {
    Ok(())
  }
  fn visit_f64<E>(self, _: f64) -> Result<(), E> {
    Ok(())
  }
  fn visit_str<E>(self, _: &str) -> Result<(), E> {
    Ok(())
  }
  fn visit_unit<E>(self) -> Result<(), E> {
    Ok(())
  }
  fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
    if self.depth > MAX_DEPTH {
      return Err(too_deep(self.problem));
    }
    while seq
      .next_element_seed(Skip {
        depth: self.depth + 1,
        problem: &mut *self.problem,
      })?
      .is_some()
    {}
    Ok(())
  }
  fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
    if self.depth > MAX_DEPTH {
      return Err(too_deep(self.problem));
    }
    while map.next_key::<IgnoredAny>()?.is_some() {
      map.next_value_seed(Skip {
        depth: self.depth + 1,
        problem: &mut *self.problem,
      })?;
    }
    Ok(())
  }
}

/// Reads a value that rampart checks, with the same depth cap.
struct Limited<'p> {
  depth: usize,
  problem: &'p mut Option<Problem>,
}

impl<'de> DeserializeSeed<'de> for Limited<'_> {
  type Value = Value;
  fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
    deserializer.deserialize_any(self)
  }
}

impl<'de> Visitor<'de> for Limited<'_> {
  type Value = Value;

  fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("a JSON value")
  }
  fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
    Ok(Value::Bool(v))
  }
  fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
    Ok(Value::from(v))
  }
  fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
    Ok(Value::from(v))
  }
  fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
    Ok(Value::from(v))
  }
  fn visit_str<E>(self, v: &str) -> Result<Value, E> {
    Ok(Value::String(v.to_owned()))
  }
  fn visit_unit<E>(self) -> Result<Value, E> {
    Ok(Value::Null)
  }
  fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
    if self.depth > MAX_DEPTH {
      return Err(too_deep(self.problem));
    }
    let mut items = Vec::new();
    while let Some(item) = seq.next_element_seed(Limited {
      depth: self.depth + 1,
      problem: &mut *self.problem,
    })? {
      items.push(item);
    }
    Ok(Value::Array(items))
  }
  fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
    // Checked values (exp, aud, crit, ...) are never objects; keep only the shape for the
    // type check, after validating the contents as `Skip` does.
    Skip {
      depth: self.depth,
      problem: self.problem,
    }
    .visit_map(&mut map)?;
    Ok(Value::Object(serde_json::Map::new()))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn reads_registered_claims_and_skips_the_rest() {
    let wanted = vec!["role".to_owned(), "missing".to_owned()];
    let c = parse_claims(
      br#"{"sub":"42","exp":1.5e9,"aud":["a","b"],"role":{"x":[1,2]},"n":null}"#,
      &wanted,
    )
    .unwrap();
    assert_eq!(c.sub, Some(Value::from("42")));
    assert_eq!(c.exp, Some(Value::from(1.5e9)));
    assert_eq!(c.aud, Some(serde_json::json!(["a", "b"])));
    assert_eq!(c.found, vec![true, false]);
    assert!(c.iss.is_none());
  }

  #[test]
  fn rejects_duplicates_non_objects_depth_and_trailing_data() {
    assert_eq!(
      parse_claims(br#"{"a":1,"a":2}"#, &[]).unwrap_err(),
      Problem::Duplicate
    );
    assert_eq!(
      parse_claims(br#"{"exp":1,"\u0065xp":2}"#, &[]).unwrap_err(),
      Problem::Duplicate
    );
    let many: String = (0..40).map(|i| format!("\"k{i}\":1,")).collect();
    let dup = format!("{{{many}\"k3\":2}}");
    assert_eq!(
      parse_claims(dup.as_bytes(), &[]).unwrap_err(),
      Problem::Duplicate
    );
    for text in [&b"[1]"[..], b"\"x\"", b"42", b"null"] {
      assert_eq!(parse_claims(text, &[]).unwrap_err(), Problem::NotObject);
    }
    for text in [&b"{"[..], b"{}x", b"{} {}", b"", b"{\"a\":}", b"\xff"] {
      assert_eq!(
        parse_claims(text, &[]).unwrap_err(),
        Problem::NotJson,
        "{text:?}"
      );
    }
    let nested = |name: &str, depth: usize| {
      format!("{{\"{name}\":{}{}}}", "[".repeat(depth), "]".repeat(depth))
    };
    for name in ["a", "aud"] {
      let deep = nested(name, MAX_DEPTH);
      assert_eq!(
        parse_claims(deep.as_bytes(), &[]).unwrap_err(),
        Problem::TooDeep
      );
    }
    let ok = nested("a", MAX_DEPTH - 1);
    assert!(parse_claims(ok.as_bytes(), &[]).is_ok());
  }

  #[test]
  fn header_lists_every_name() {
    let h = parse_header(b"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\",\"x\":1}").unwrap();
    assert_eq!(h.alg, Some(Value::from("HS256")));
    assert_eq!(h.names, vec!["typ", "alg", "x"]);
  }
}
