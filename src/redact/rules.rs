//! Which members of a JSON document are secret by their name: key rules (any depth, case- and
//! separator-insensitive) and path rules (exact paths with `*`, `[*]` and `**`).

use std::cell::RefCell;

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
  /// UTF-8 (lowercased letters and digits of the key).
  pub text: Vec<u8>,
  starts: Vec<usize>,
}

impl Normalized {
  pub fn set(&mut self, key: &str) {
    self.text.clear();
    self.starts.clear();
    if key.is_ascii() {
      self.set_ascii(key.as_bytes());
    } else {
      self.set_unicode(key);
    }
  }

  /// The common case, without decoding characters.
  fn set_ascii(&mut self, key: &[u8]) {
    let mut previous: Option<u8> = None;
    for (i, &c) in key.iter().enumerate() {
      if !c.is_ascii_alphanumeric() {
        previous = None;
        continue;
      }
      if ascii_word_starts(key, i, previous) {
        self.starts.push(self.text.len());
      }
      self.text.push(c.to_ascii_lowercase());
      previous = Some(c);
    }
  }

  fn set_unicode(&mut self, key: &str) {
    let mut chars = key.chars().peekable();
    let mut previous: Option<char> = None;
    while let Some(c) = chars.next() {
      if !c.is_alphanumeric() {
        previous = None;
        continue;
      }
      let starts_word = match previous {
        None => true,
        Some(p) => {
          let next_lower = chars.peek().is_some_and(|n| n.is_lowercase());
          (p.is_lowercase() && c.is_uppercase())
            || (p.is_numeric() != c.is_numeric())
            || (p.is_uppercase() && c.is_uppercase() && next_lower)
        }
      };
      if starts_word {
        self.starts.push(self.text.len());
      }
      let mut utf8 = [0u8; 4];
      for lower in c.to_lowercase() {
        self
          .text
          .extend_from_slice(lower.encode_utf8(&mut utf8).as_bytes());
      }
      previous = Some(c);
    }
  }

  fn is_start(&self, at: usize) -> bool {
    at == self.text.len() || self.starts.binary_search(&at).is_ok()
  }
}

/// Whether the letter or digit `key[i]` starts a word, after `previous` (`None` after a
/// separator or at the start).
fn ascii_word_starts(key: &[u8], i: usize, previous: Option<u8>) -> bool {
  let c = key[i];
  match previous {
    None => true,
    Some(p) => {
      let next_lower = key.get(i + 1).is_some_and(u8::is_ascii_lowercase);
      (p.is_ascii_lowercase() && c.is_ascii_uppercase())
        || (p.is_ascii_digit() != c.is_ascii_digit())
        || (p.is_ascii_uppercase() && c.is_ascii_uppercase() && next_lower)
    }
  }
}

/// Key rules: a key is secret when a run of its whole words spells a rule, ignoring case and
/// separators, with an optional plural `s` (`apiKey` matches `X-Api-Key`, `APIKEY` and
/// `userApiKey`; `token` matches `accessToken` and `tokens` but not `tokenizer`).
pub struct Keys {
  matcher: Option<AhoCorasick>,
  /// Bit set of the first two bytes of every rule: a key none of whose words starts with one of
  /// them cannot match, which rules out almost every key in a few nanoseconds.
  first_pairs: Vec<u64>,
  /// The first four bytes of every rule (sorted), and the rules shorter than that.
  prefixes: Vec<[u8; 4]>,
  short: Vec<Vec<u8>>,
  /// Recent answers, by key: log lines repeat the same keys. Direct-mapped, so keys that
  /// collide only evict each other (no input can make lookups slow).
  cache: RefCell<Vec<Option<Cached>>>,
}

/// A key and whether it is secret.
type Cached = (Box<str>, bool);

const CACHE_SLOTS: usize = 1024;
/// Keys longer than this are not cached.
const CACHE_MAX_KEY: usize = 64;

fn cache_slot(key: &[u8]) -> usize {
  let mut hash = key.len() as u64;
  for chunk in key.chunks(8) {
    let mut word = [0u8; 8];
    word[..chunk.len()].copy_from_slice(chunk);
    hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x517c_c1b7_2722_0a95);
  }
  (hash >> 32) as usize % CACHE_SLOTS
}

fn pair_index(text: &[u8], at: usize) -> Option<usize> {
  Some(usize::from(*text.get(at)?) << 8 | usize::from(*text.get(at + 1)?))
}

impl Keys {
  pub fn new(keys: &[String]) -> Result<Keys, String> {
    let mut normalized = Vec::with_capacity(keys.len());
    let mut buffer = Normalized::default();
    let mut first_pairs = vec![0u64; 65536 / 64];
    let mut prefixes = Vec::new();
    let mut short = Vec::new();
    for key in keys {
      buffer.set(key);
      let Some(pair) = pair_index(&buffer.text, 0) else {
        return Err("has a key with fewer than two letters or digits".into());
      };
      first_pairs[pair / 64] |= 1 << (pair % 64);
      match <[u8; 4]>::try_from(buffer.text.get(..4).unwrap_or_default()) {
        Ok(prefix) => prefixes.push(prefix),
        Err(_) => short.push(buffer.text.clone()),
      }
      normalized.push(buffer.text.clone());
    }
    prefixes.sort_unstable();
    prefixes.dedup();
    let matcher = if normalized.is_empty() {
      None
    } else {
      Some(AhoCorasick::new(&normalized).map_err(|_| "has too many or too long keys".to_owned())?)
    };
    Ok(Keys {
      matcher,
      first_pairs,
      prefixes,
      short,
      cache: RefCell::new(vec![None; CACHE_SLOTS]),
    })
  }

  /// Whether `key` names a secret, using `buffer` for its normalized form and remembering the
  /// answer for short keys.
  pub fn is_secret(&self, key: &str, buffer: &mut Normalized) -> bool {
    if self.matcher.is_none() {
      return false;
    }
    let slot = (key.len() <= CACHE_MAX_KEY).then(|| cache_slot(key.as_bytes()));
    if let Some(slot) = slot {
      if let Some((cached, answer)) = &self.cache.borrow()[slot] {
        if **cached == *key {
          return *answer;
        }
      }
    }
    let answer = (!key.is_ascii() || self.might_match_ascii(key.as_bytes())) && {
      buffer.set(key);
      self.matches(buffer)
    };
    if let Some(slot) = slot {
      self.cache.borrow_mut()[slot] = Some((key.into(), answer));
    }
    answer
  }

  /// A quick answer for an ASCII key, without normalizing it: `false` when no word of the key
  /// starts like a rule (so it cannot match), `true` when it might.
  pub fn might_match_ascii(&self, key: &[u8]) -> bool {
    let mut previous: Option<u8> = None;
    for (i, &c) in key.iter().enumerate() {
      if !c.is_ascii_alphanumeric() {
        previous = None;
        continue;
      }
      if ascii_word_starts(key, i, previous) && self.rule_starts_at(&key[i..]) {
        return true;
      }
      previous = Some(c);
    }
    false
  }

  /// Whether the normalized form of `rest` (a key from a word start on) begins like a rule.
  fn rule_starts_at(&self, rest: &[u8]) -> bool {
    let mut head = [0u8; 4];
    let mut len = 0;
    for b in rest.iter().filter(|b| b.is_ascii_alphanumeric()).take(4) {
      head[len] = b.to_ascii_lowercase();
      len += 1;
    }
    if len < 2 {
      return false;
    }
    let pair = usize::from(head[0]) << 8 | usize::from(head[1]);
    if self.first_pairs[pair / 64] & (1 << (pair % 64)) == 0 {
      return false;
    }
    (len == 4 && self.prefixes.binary_search(&head).is_ok())
      || self.short.iter().any(|rule| head[..len].starts_with(rule))
  }

  /// Whether `key` (set with [`Normalized::set`]) names a secret.
  pub fn matches(&self, key: &Normalized) -> bool {
    let Some(matcher) = &self.matcher else {
      return false;
    };
    let text = &key.text;
    let possible = key.starts.iter().any(|&at| {
      pair_index(text, at).is_some_and(|pair| self.first_pairs[pair / 64] & (1 << (pair % 64)) != 0)
    });
    if !possible {
      return false;
    }
    matcher.find_overlapping_iter(&key.text).any(|m| {
      key.is_start(m.start())
        && (key.is_start(m.end())
          || key.text[m.end()..].starts_with(b"s") && key.is_start(m.end() + 1))
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
    assert!(Keys::new(&["a".into()]).is_err());
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
