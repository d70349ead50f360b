//! Which members of a JSON document are secret by their name: key rules (any depth, case- and
//! separator-insensitive) and path rules (exact paths with `*`, `[*]` and `**`).

use aho_corasick::AhoCorasick;

/// The keys redacted by default, wherever they appear.
pub const DEFAULT_KEYS: [&str; 14] = [
  "password",
  "passwd",
  "secret",
  "token",
  "authorization",
  "cookie",
  "apiKey",
  "accessKey",
  "privateKey",
  "credential",
  "sessionId",
  "cvv",
  "cardNumber",
  "signature",
];

/// A key lowercased with everything but letters and digits dropped (`X-Api-Key`, `api_key` and
/// `APIKEY` are all `apikey`), and where in that text each word starts: at a separator, a
/// lower-to-upper change (`apiKey`), the end of an acronym (`APIKey`) and a letter/digit change.
#[derive(Default)]
pub struct Normalized {
  pub text: String,
  starts: Vec<usize>,
}

impl Normalized {
  pub fn set(&mut self, key: &str) {
    self.text.clear();
    self.starts.clear();
    let chars: Vec<char> = key.chars().collect();
    let mut previous: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
      if !c.is_alphanumeric() {
        previous = None;
        continue;
      }
      let next = chars.get(i + 1).copied();
      let new_word = match previous {
        None => true,
        Some(p) => {
          (p.is_lowercase() && c.is_uppercase())
            || (p.is_numeric() != c.is_numeric())
            || (p.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase))
        }
      };
      if new_word {
        self.starts.push(self.text.len());
      }
      self.text.extend(c.to_lowercase());
      previous = Some(c);
    }
  }

  fn is_start(&self, at: usize) -> bool {
    at == self.text.len() || self.starts.binary_search(&at).is_ok()
  }
}

/// Key rules: a key is secret when a run of its whole words spells a rule, ignoring case and
/// separators, with an optional plural `s` (`apiKey` matches `X-Api-Key`, `APIKEY` and
/// `userApiKey`; `token` matches `accessToken` and `tokens` but not `tokenizer`).
pub struct Keys {
  matcher: Option<AhoCorasick>,
}

impl Keys {
  pub fn new(keys: &[String]) -> Result<Keys, String> {
    let mut normalized = Vec::with_capacity(keys.len());
    let mut buffer = Normalized::default();
    for key in keys {
      buffer.set(key);
      if buffer.text.is_empty() {
        return Err("has a key with no letters or digits".into());
      }
      normalized.push(buffer.text.clone());
    }
    let matcher = if normalized.is_empty() {
      None
    } else {
      Some(AhoCorasick::new(&normalized).map_err(|_| "has too many or too long keys".to_owned())?)
    };
    Ok(Keys { matcher })
  }

  /// Whether `key` (set with [`Normalized::set`]) names a secret.
  pub fn matches(&self, key: &Normalized) -> bool {
    let Some(matcher) = &self.matcher else {
      return false;
    };
    matcher.find_overlapping_iter(&key.text).any(|m| {
      key.is_start(m.start())
        && (key.is_start(m.end())
          || key.text[m.end()..].starts_with('s') && key.is_start(m.end() + 1))
    })
  }
}

/// One step of a path rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
  /// A member name, exactly (case-sensitive), or an array index written `[3]`.
  Name(String),
  Index(usize),
  /// `*` or `[*]`: any one member or element.
  Any,
  /// `**`: any number of levels, including none.
  AnyDepth,
}

/// Where the parser is: the member names and indexes from the root to the current value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
  Name(std::borrow::Cow<'a, str>),
  Index(usize),
}

const FORBIDDEN: [&str; 3] = ["__proto__", "constructor", "prototype"];

/// Parses `a.b`, `a["x-y"]`, `a['x']`, `items[*].pin`, `list[0]`, `*.password`, `**.ssn`.
pub fn parse_path(path: &str) -> Result<Vec<Step>, String> {
  let bytes = path.as_bytes();
  let mut steps = Vec::new();
  let mut i = 0;
  let mut expect_name = true;
  while i < bytes.len() {
    match bytes[i] {
      b'.' if !expect_name => {
        i += 1;
        expect_name = true;
        if i == bytes.len() {
          return Err("ends with a dot".into());
        }
      }
      b'[' => {
        let close = path[i..]
          .find(']')
          .map(|c| c + i)
          .ok_or("has an unclosed [")?;
        let inner = &path[i + 1..close];
        let step = if inner == "*" {
          Step::Any
        } else if let Some(quoted) = inner
          .strip_prefix('"')
          .and_then(|s| s.strip_suffix('"'))
          .or_else(|| inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        {
          if quoted.contains(['"', '\'', '\\']) {
            return Err("has a quote or backslash inside brackets".into());
          }
          Step::Name(quoted.to_owned())
        } else if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
          Step::Index(
            inner
              .parse()
              .map_err(|_| "has an index that is too large")?,
          )
        } else {
          return Err("has brackets that hold neither *, an index nor a quoted name".into());
        };
        steps.push(step);
        i = close + 1;
        expect_name = false;
      }
      _ if expect_name => {
        let end = path[i..].find(['.', '[']).map_or(bytes.len(), |e| e + i);
        let name = &path[i..end];
        if name.is_empty() {
          return Err("has an empty segment".into());
        }
        steps.push(match name {
          "*" => Step::Any,
          "**" => Step::AnyDepth,
          _ => Step::Name(name.to_owned()),
        });
        i = end;
        expect_name = false;
      }
      _ => return Err("has a segment that does not start with . or [".into()),
    }
  }
  if steps.is_empty() {
    return Err("is empty".into());
  }
  if steps
    .iter()
    .any(|s| matches!(s, Step::Name(n) if FORBIDDEN.contains(&n.as_str())))
  {
    return Err("names __proto__, constructor or prototype".into());
  }
  if steps.last() == Some(&Step::AnyDepth) {
    return Err("ends with **, which would redact everything below it; name the key".into());
  }
  Ok(steps)
}

/// Whether `steps` matches the whole of `path`.
pub fn path_matches(steps: &[Step], path: &[Segment<'_>]) -> bool {
  match (steps.first(), path.first()) {
    (None, None) => true,
    (Some(Step::AnyDepth), _) => {
      path_matches(&steps[1..], path) || (!path.is_empty() && path_matches(steps, &path[1..]))
    }
    (None, Some(_)) | (Some(_), None) => false,
    (Some(step), Some(segment)) => {
      let here = match (step, segment) {
        (Step::Any, _) => true,
        (Step::Name(n), Segment::Name(s)) => n == s,
        (Step::Index(n), Segment::Index(s)) => n == s,
        _ => false,
      };
      here && path_matches(&steps[1..], &path[1..])
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::borrow::Cow;

  fn seg(parts: &[&'static str]) -> Vec<Segment<'static>> {
    parts
      .iter()
      .map(|p| match p.parse::<usize>() {
        Ok(n) => Segment::Index(n),
        Err(_) => Segment::Name(Cow::Borrowed(p)),
      })
      .collect()
  }

  #[test]
  fn keys_match_across_case_and_separators() {
    let keys = Keys::new(&["apiKey".into(), "password".into(), "credential".into()]).unwrap();
    let mut n = Normalized::default();
    for key in [
      "X-Api-Key",
      "api_key",
      "APIKEY",
      "userApiKey",
      "APIKeyId",
      "Password",
      "new_password_2",
      "passwords",
      "credentials",
      "AWS_CREDENTIALS",
      "passwordHash",
    ] {
      n.set(key);
      assert!(keys.matches(&n), "{key}");
    }
    for key in [
      "api",
      "key",
      "passw",
      "author",
      "passwordless",
      "superpassword",
      "xapikeys2",
    ] {
      n.set(key);
      assert!(!keys.matches(&n), "{key}");
    }
    assert!(Keys::new(&["--".into()]).is_err());
  }

  #[test]
  fn paths_parse_and_match() {
    let p = parse_path(r#"req.headers["x-custom"]"#).unwrap();
    assert!(path_matches(&p, &seg(&["req", "headers", "x-custom"])));
    assert!(!path_matches(&p, &seg(&["req", "headers", "X-Custom"])));
    assert!(!path_matches(&p, &seg(&["req", "headers"])));
    let p = parse_path("items[*].pin").unwrap();
    assert!(path_matches(&p, &seg(&["items", "3", "pin"])));
    assert!(!path_matches(&p, &seg(&["items", "pin"])));
    let p = parse_path("**.ssn").unwrap();
    assert!(path_matches(&p, &seg(&["ssn"])));
    assert!(path_matches(&p, &seg(&["a", "0", "b", "ssn"])));
    assert!(!path_matches(&p, &seg(&["a", "ssn", "b"])));
    let p = parse_path("*.b[1]").unwrap();
    assert!(path_matches(&p, &seg(&["x", "b", "1"])));
    assert!(!path_matches(&p, &seg(&["x", "b"])));
    for bad in [
      "",
      "a.",
      ".a",
      "a..b",
      "a[",
      "a[x]",
      "a[\"x]",
      "__proto__.x",
      "a.constructor",
      "a.**",
      "a[\"b\\\"\"]",
    ] {
      assert!(parse_path(bad).is_err(), "{bad}");
    }
  }
}
