//! Which members of a JSON document are secret by their name: key rules (any depth, case- and
//! separator-insensitive) and path rules (exact paths with `*`, `[*]` and `**`).

use std::cell::RefCell;

use aho_corasick::AhoCorasick;

/// The keys redacted by default, wherever they appear.
pub const DEFAULT_KEYS: [&str; 22] = [
  "password",
  "passwd",
  "pwd",
  "pass",
  "passphrase",
  "pin",
  "otp",
  "ssn",
  "auth",
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
  "jwt",
];

/// Longest key rule, in bytes. Key rules are member names; longer ones are refused
/// (`RangeError`) so that building a `Redactor` stays fast whatever it is given.
pub const MAX_KEY_LEN: usize = 256;
/// Longest path rule, in bytes, and most steps in one (after `**.**` runs are merged).
pub const MAX_PATH_LEN: usize = 1024;
pub const MAX_PATH_STEPS: usize = 63;

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

/// One level of the document: a member name or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
  Name(&'a str),
  Index(usize),
}

/// A parsed path rule, matched as a small automaton: the state after each level is a bit set
/// (bit `i`: the first `i` steps match the levels so far), so matching costs a few operations
/// per rule and level whatever the number of `*` and `**` steps (no backtracking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
  steps: Vec<Step>,
  /// Whether any step is `**` (else [`Path::closure`] has nothing to add).
  any_depth: bool,
}

impl Path {
  /// The state at the root of the document.
  pub fn start(&self) -> u64 {
    self.closure(1)
  }

  /// Adds to `set` the steps reachable by letting each `**` match no level.
  fn closure(&self, mut set: u64) -> u64 {
    if !self.any_depth {
      return set;
    }
    for (i, step) in self.steps.iter().enumerate() {
      if set & (1 << i) != 0 && *step == Step::AnyDepth {
        set |= 1 << (i + 1);
      }
    }
    set
  }

  /// The state one level down, at `segment`.
  pub fn advance(&self, set: u64, segment: Segment<'_>) -> u64 {
    if set == 0 {
      return 0;
    }
    let mut next = 0;
    // Only the steps in `set` (a bit past the last step, the accepting one, has none).
    let mut live = set;
    while live != 0 {
      let i = live.trailing_zeros() as usize;
      live &= live - 1;
      let Some(step) = self.steps.get(i) else {
        break;
      };
      let here = match (step, segment) {
        (Step::AnyDepth, _) => {
          next |= 1 << i;
          continue;
        }
        (Step::Any, _) => true,
        (Step::Name(n), Segment::Name(s)) => n == s,
        (Step::Index(n), Segment::Index(s)) => *n == s,
        _ => false,
      };
      if here {
        next |= 1 << (i + 1);
      }
    }
    self.closure(next)
  }

  /// Whether the whole rule matches at this state.
  pub fn accepts(&self, set: u64) -> bool {
    set & (1 << self.steps.len()) != 0
  }

  /// Whether the rule matches the whole of `path` (for tests).
  #[cfg(test)]
  pub fn matches(&self, path: &[Segment<'_>]) -> bool {
    let end = path
      .iter()
      .fold(self.start(), |set, &segment| self.advance(set, segment));
    self.accepts(end)
  }
}

const FORBIDDEN: [&str; 3] = ["__proto__", "constructor", "prototype"];

/// Parses `a.b`, `a["x-y"]`, `a['x']`, `items[*].pin`, `list[0]`, `*.password`, `**.ssn`.
/// Runs of `**` steps are merged (they mean the same as one).
pub fn parse_path(path: &str) -> Result<Path, PathError> {
  let steps = parse_steps(path).map_err(PathError::Invalid)?;
  if steps.len() > MAX_PATH_STEPS {
    return Err(PathError::TooManySteps);
  }
  let any_depth = steps.contains(&Step::AnyDepth);
  Ok(Path { steps, any_depth })
}

/// Why a path rule was refused.
#[derive(Debug)]
pub enum PathError {
  Invalid(String),
  TooManySteps,
}

fn parse_steps(path: &str) -> Result<Vec<Step>, String> {
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
        let step = match name {
          "*" => Step::Any,
          "**" => Step::AnyDepth,
          _ => Step::Name(name.to_owned()),
        };
        if !(step == Step::AnyDepth && steps.last() == Some(&Step::AnyDepth)) {
          steps.push(step);
        }
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

#[cfg(test)]
mod tests {
  use super::*;

  fn seg(parts: &[&'static str]) -> Vec<Segment<'static>> {
    parts
      .iter()
      .map(|p| match p.parse::<usize>() {
        Ok(n) => Segment::Index(n),
        Err(_) => Segment::Name(p),
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
    assert!(p.matches(&seg(&["req", "headers", "x-custom"])));
    assert!(!p.matches(&seg(&["req", "headers", "X-Custom"])));
    assert!(!p.matches(&seg(&["req", "headers"])));
    let p = parse_path("items[*].pin").unwrap();
    assert!(p.matches(&seg(&["items", "3", "pin"])));
    assert!(!p.matches(&seg(&["items", "pin"])));
    let p = parse_path("**.ssn").unwrap();
    assert!(p.matches(&seg(&["ssn"])));
    assert!(p.matches(&seg(&["a", "0", "b", "ssn"])));
    assert!(!p.matches(&seg(&["a", "ssn", "b"])));
    let p = parse_path("*.b[1]").unwrap();
    assert!(p.matches(&seg(&["x", "b", "1"])));
    assert!(!p.matches(&seg(&["x", "b"])));
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

  /// Regression: `**` steps used to be matched by backtracking (exponential in their number).
  #[test]
  fn any_depth_paths_match_without_backtracking() {
    let many = format!("{}x", "**.a.".repeat(30));
    let p = parse_path(&many).unwrap();
    let deep: Vec<&'static str> = std::iter::repeat_n("b", 200).collect();
    assert!(!p.matches(&seg(&deep)));
    let mut hit: Vec<&'static str> = std::iter::repeat_n("a", 30).collect();
    hit.push("x");
    assert!(p.matches(&seg(&hit)));
    // Runs of ** merge into one step, so 200 of them is a two-step rule.
    let p = parse_path(&format!("{}x", "**.".repeat(200))).unwrap();
    assert_eq!(p.steps.len(), 2);
    assert!(p.matches(&seg(&["q", "r", "x"])));
    assert!(matches!(
      parse_path("a.".repeat(64).trim_end_matches('.')),
      Err(PathError::TooManySteps)
    ));
    assert!(parse_path("a.".repeat(63).trim_end_matches('.')).is_ok());
  }

  #[test]
  fn long_keys_build_in_linear_time() {
    let keys: Vec<String> = (0..MAX_RULES_FOR_TEST)
      .map(|i| format!("{i}{}", "ab".repeat(MAX_KEY_LEN / 2 - 4)))
      .collect();
    assert!(Keys::new(&keys).is_ok());
    assert!(Keys::new(&["a".repeat(MAX_KEY_LEN)]).is_ok());
  }

  const MAX_RULES_FOR_TEST: usize = 1000;
}
