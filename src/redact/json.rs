//! One pass over a JSON text that copies it byte for byte except the secrets: values whose key
//! or path is secret, and secrets found by pattern inside string values. The walk validates the
//! JSON as it goes; anything it cannot read fails closed.

use std::borrow::Cow;

use super::censor::Replacer;
use super::patterns::Scanner;
use super::rules::{self, Keys, Path, Segment};

/// Deepest nesting read; deeper input fails closed.
pub const MAX_DEPTH: usize = 128;

/// Everything a `Redactor` applies.
pub struct Policy {
  pub keys: Keys,
  pub paths: Vec<Path>,
  pub scanner: Scanner,
  pub replacer: Replacer,
  pub max_len: usize,
}

/// The input could not be read as JSON (or was too long or too deep).
#[derive(Debug)]
pub struct Unreadable;

type Parsed = Result<(), Unreadable>;

impl Policy {
  /// The redacted JSON text, or `Unreadable`. Returns `None` when nothing changed (the caller
  /// can hand back the input as it is).
  pub fn redact_json(&self, input: &str) -> Result<Option<String>, Unreadable> {
    if input.len() > self.max_len {
      return Err(Unreadable);
    }
    // Keyword positions over the whole line, once: each unescaped string then looks up the
    // hits inside its own span instead of searching again.
    let mut hits = Vec::new();
    self
      .scanner
      .keyword_hits(input.as_bytes(), |at, rule| hits.push((at, rule)));
    let cards_possible = self.scanner.card_possible(input.as_bytes());
    let mut walker = Walker {
      input,
      bytes: input.as_bytes(),
      pos: 0,
      out: None,
      last: 0,
      states: self.paths.iter().map(Path::start).collect(),
      policy: self,
      hits,
      next_hit: 0,
      cards_possible,
      skipping: 0,
      dead: 0,
      key_buffer: rules::Normalized::default(),
    };
    walker.ws();
    walker.value(0)?;
    walker.ws();
    if walker.pos != walker.bytes.len() {
      return Err(Unreadable);
    }
    Ok(walker.out.map(|mut out| {
      out.push_str(&input[walker.last..]);
      out
    }))
  }

  /// What unreadable input becomes: the censor as a JSON string (a trailing newline is kept, as
  /// log lines end with one).
  pub fn fail_closed(&self, input: &str) -> String {
    let mut text = String::new();
    self.replacer.replace(input, false, &mut text);
    let mut out = String::with_capacity(text.len() + 3);
    write_json_string(&mut out, &text);
    if input.ends_with('\n') {
      out.push('\n');
    }
    out
  }

  /// Redacts the pattern secrets in free text; `None` when there are none.
  pub fn redact_text(&self, text: &str) -> Option<String> {
    if self.scanner.is_empty() {
      return None;
    }
    let candidates = self.scanner.candidates(text.as_bytes());
    self.replace_found(text, candidates)
  }

  fn replace_found(&self, text: &str, candidates: u64) -> Option<String> {
    if candidates == 0 {
      return None;
    }
    let found = self.scanner.scan(text, candidates);
    if found.is_empty() {
      return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for f in found {
      out.push_str(&text[last..f.start]);
      self
        .replacer
        .replace(&text[f.start..f.end], f.card, &mut out);
      last = f.end;
    }
    out.push_str(&text[last..]);
    Some(out)
  }
}

struct Walker<'a> {
  input: &'a str,
  bytes: &'a [u8],
  pos: usize,
  /// The output so far, once something has been replaced; `None` while nothing has.
  out: Option<String>,
  /// Input before this offset is already in `out`.
  last: usize,
  /// Path-rule states, one per rule for each level from the root to the current value
  /// (see [`Path::advance`]); the last `paths.len()` entries are the current level's.
  states: Vec<u64>,
  policy: &'a Policy,
  /// Keyword starts in the line, in order, with their rule; `next_hit` is the first one not
  /// before the current string.
  hits: Vec<(usize, usize)>,
  next_hit: usize,
  /// Whether the line holds a long enough digit run for a card number anywhere.
  cards_possible: bool,
  /// Inside a value that is being replaced whole: validate only.
  skipping: usize,
  /// Levels entered below one where every path-rule state was empty (not in `states`).
  dead: usize,
  key_buffer: rules::Normalized,
}

impl<'a> Walker<'a> {
  fn peek(&self) -> Option<u8> {
    self.bytes.get(self.pos).copied()
  }

  fn ws(&mut self) {
    while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
      self.pos += 1;
    }
  }

  fn expect(&mut self, byte: u8) -> Parsed {
    if self.peek() == Some(byte) {
      self.pos += 1;
      Ok(())
    } else {
      Err(Unreadable)
    }
  }

  /// Replaces input `start..end` with what `write` appends.
  fn replace_with(&mut self, start: usize, end: usize, write: impl FnOnce(&mut String)) {
    let out = self
      .out
      .get_or_insert_with(|| String::with_capacity(self.input.len() + 16));
    out.push_str(&self.input[self.last..start]);
    write(out);
    self.last = end;
  }

  fn value(&mut self, depth: usize) -> Parsed {
    if depth > MAX_DEPTH {
      return Err(Unreadable);
    }
    match self.peek().ok_or(Unreadable)? {
      b'{' => self.object(depth),
      b'[' => self.array(depth),
      b'"' => self.string_value(),
      b't' => self.literal(b"true"),
      b'f' => self.literal(b"false"),
      b'n' => self.literal(b"null"),
      b'-' | b'0'..=b'9' => self.number(),
      _ => Err(Unreadable),
    }
  }

  fn literal(&mut self, word: &[u8]) -> Parsed {
    if self.bytes[self.pos..].starts_with(word) {
      self.pos += word.len();
      Ok(())
    } else {
      Err(Unreadable)
    }
  }

  fn digits(&mut self) -> usize {
    let start = self.pos;
    while self.peek().is_some_and(|b| b.is_ascii_digit()) {
      self.pos += 1;
    }
    self.pos - start
  }

  fn number(&mut self) -> Parsed {
    if self.peek() == Some(b'-') {
      self.pos += 1;
    }
    match self.peek() {
      Some(b'0') => self.pos += 1,
      Some(b'1'..=b'9') => {
        self.digits();
      }
      _ => return Err(Unreadable),
    }
    if self.peek() == Some(b'.') {
      self.pos += 1;
      if self.digits() == 0 {
        return Err(Unreadable);
      }
    }
    if matches!(self.peek(), Some(b'e' | b'E')) {
      self.pos += 1;
      if matches!(self.peek(), Some(b'+' | b'-')) {
        self.pos += 1;
      }
      if self.digits() == 0 {
        return Err(Unreadable);
      }
    }
    Ok(())
  }

  /// Reads a string at `pos` (on its opening quote). Returns the contents, decoded when it has
  /// escapes, and whether it had any.
  fn string(&mut self) -> Result<(Cow<'a, str>, bool), Unreadable> {
    self.expect(b'"')?;
    let start = self.pos;
    let rest = &self.bytes[start..];
    let at = find_string_special(rest).ok_or(Unreadable)?;
    match rest[at] {
      b'"' => {
        self.pos = start + at + 1;
        Ok((Cow::Borrowed(&self.input[start..start + at]), false))
      }
      // An escape: decode the whole string from its start.
      b'\\' => self.decode_escaped().map(|s| (Cow::Owned(s), true)),
      // A raw control character.
      _ => Err(Unreadable),
    }
  }

  fn hex4(&mut self) -> Result<u32, Unreadable> {
    let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(Unreadable)?;
    let text = std::str::from_utf8(digits).map_err(|_| Unreadable)?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
      return Err(Unreadable);
    }
    self.pos += 4;
    u32::from_str_radix(text, 16).map_err(|_| Unreadable)
  }

  fn decode_escaped(&mut self) -> Result<String, Unreadable> {
    let mut out = String::new();
    loop {
      let rest = &self.bytes[self.pos..];
      let at = find_quote_or_escape(rest).ok_or(Unreadable)?;
      if has_control(&rest[..at]) {
        return Err(Unreadable);
      }
      out.push_str(&self.input[self.pos..self.pos + at]);
      self.pos += at;
      if self.bytes[self.pos] == b'"' {
        self.pos += 1;
        return Ok(out);
      }
      self.pos += 1;
      let escape = self.peek().ok_or(Unreadable)?;
      self.pos += 1;
      match escape {
        b'"' => out.push('"'),
        b'\\' => out.push('\\'),
        b'/' => out.push('/'),
        b'b' => out.push('\u{8}'),
        b'f' => out.push('\u{c}'),
        b'n' => out.push('\n'),
        b'r' => out.push('\r'),
        b't' => out.push('\t'),
        b'u' => {
          let first = self.hex4()?;
          let code =
            if (0xd800..0xdc00).contains(&first) && self.bytes[self.pos..].starts_with(b"\\u") {
              let save = self.pos;
              self.pos += 2;
              let second = self.hex4()?;
              if (0xdc00..0xe000).contains(&second) {
                0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
              } else {
                self.pos = save;
                first
              }
            } else {
              first
            };
          out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
        }
        _ => return Err(Unreadable),
      }
    }
  }

  fn string_value(&mut self) -> Parsed {
    let start = self.pos;
    let (text, escaped) = self.string()?;
    if self.skipping > 0 || self.policy.scanner.is_empty() {
      return Ok(());
    }
    let candidates = if escaped {
      // Escapes can hide keywords: search the decoded text itself.
      self.policy.scanner.candidates(text.as_bytes())
    } else {
      self.candidates_in(start, self.pos, &text)
    };
    if let Some(redacted) = self.policy.replace_found(&text, candidates) {
      self.replace_with(start, self.pos, |out| write_json_string(out, &redacted));
    }
    Ok(())
  }

  /// The rules that could match in the unescaped string at `start..end` of the line.
  fn candidates_in(&mut self, start: usize, end: usize, text: &str) -> u64 {
    let mut set = 0;
    while let Some(&(at, rule)) = self.hits.get(self.next_hit) {
      if at >= end {
        break;
      }
      if at > start {
        set |= 1 << rule;
      }
      self.next_hit += 1;
    }
    if self.cards_possible && self.policy.scanner.card_possible(text.as_bytes()) {
      set |= self.policy.scanner.card_bit();
    }
    set
  }

  /// Enters the member or element `segment` of the current value, for path rules.
  fn push(&mut self, segment: Segment<'_>) {
    let paths = &self.policy.paths;
    let top = self.states.len() - paths.len();
    // Below a level where no rule is alive, none can be: count the levels instead of computing
    // them (most of a line is outside every path).
    if self.dead > 0 || self.states[top..].iter().all(|&set| set == 0) {
      self.dead += 1;
      return;
    }
    for (i, path) in paths.iter().enumerate() {
      let next = path.advance(self.states[top + i], segment);
      self.states.push(next);
    }
  }

  fn pop(&mut self) {
    if self.dead > 0 {
      self.dead -= 1;
      return;
    }
    let len = self.states.len() - self.policy.paths.len();
    self.states.truncate(len);
  }

  /// Whether the member or element at the current level (already pushed) is secret.
  fn secret_here(&mut self, key: Option<&str>) -> bool {
    if key.is_some_and(|key| self.policy.keys.is_secret(key, &mut self.key_buffer)) {
      return true;
    }
    if self.dead > 0 {
      return false;
    }
    let paths = &self.policy.paths;
    let top = self.states.len() - paths.len();
    paths
      .iter()
      .zip(&self.states[top..])
      .any(|(path, &set)| path.accepts(set))
  }

  /// Reads the member or element value at `pos`, replacing it whole when `secret`.
  fn member_value(&mut self, depth: usize, secret: bool) -> Parsed {
    if !secret || self.skipping > 0 {
      return self.value(depth + 1);
    }
    let start = self.pos;
    self.skipping += 1;
    let result = self.value(depth + 1);
    self.skipping -= 1;
    result?;
    let raw = &self.input[start..self.pos];
    // A pseudonym is of the value itself (a string's contents, else its JSON text).
    let secret_text = match self.policy.replacer.uses_value() {
      true => serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_owned()),
      false => String::new(),
    };
    let mut censored = String::new();
    self
      .policy
      .replacer
      .replace(&secret_text, false, &mut censored);
    self.replace_with(start, self.pos, |out| write_json_string(out, &censored));
    Ok(())
  }

  fn tracking(&self) -> bool {
    !self.policy.paths.is_empty() && self.skipping == 0
  }

  fn object(&mut self, depth: usize) -> Parsed {
    self.expect(b'{')?;
    self.ws();
    if self.peek() == Some(b'}') {
      self.pos += 1;
      return Ok(());
    }
    // Set after a `"type":"Buffer"` member: a Node.js Buffer as `toJSON` writes it, whose
    // `data` (an array of byte values) is censored whole, as it may hold any secret in a form
    // the patterns cannot read.
    let mut buffer = false;
    loop {
      self.ws();
      let (key, _) = self.string()?;
      self.ws();
      self.expect(b':')?;
      self.ws();
      let start = self.pos;
      let secret = if self.skipping > 0 {
        false
      } else {
        if self.tracking() {
          self.push(Segment::Name(&key));
        }
        self.secret_here(Some(&key))
          || (buffer && key == "data" && self.peek() == Some(b'[') && !self.empty_array())
      };
      let result = self.member_value(depth, secret);
      if self.tracking() {
        self.pop();
      }
      result?;
      buffer = buffer || (key == "type" && &self.input[start..self.pos] == "\"Buffer\"");
      self.ws();
      match self.peek() {
        Some(b',') => self.pos += 1,
        Some(b'}') => {
          self.pos += 1;
          return Ok(());
        }
        _ => return Err(Unreadable),
      }
    }
  }

  /// Whether the array at `pos` is `[]` (spaces allowed inside).
  fn empty_array(&self) -> bool {
    self.bytes[self.pos + 1..]
      .iter()
      .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
      == Some(&b']')
  }

  fn array(&mut self, depth: usize) -> Parsed {
    self.expect(b'[')?;
    self.ws();
    if self.peek() == Some(b']') {
      self.pos += 1;
      return Ok(());
    }
    let mut index = 0;
    loop {
      self.ws();
      let secret = if self.tracking() {
        self.push(Segment::Index(index));
        self.secret_here(None)
      } else {
        false
      };
      let result = self.member_value(depth, secret);
      if self.tracking() {
        self.pop();
      }
      result?;
      index += 1;
      self.ws();
      match self.peek() {
        Some(b',') => self.pos += 1,
        Some(b']') => {
          self.pos += 1;
          return Ok(());
        }
        _ => return Err(Unreadable),
      }
    }
  }
}

/// Appends `text` as a JSON string literal (quotes, backslashes and control characters escaped;
/// everything else as it is).
fn write_json_string(out: &mut String, text: &str) {
  out.push('"');
  let mut last = 0;
  for (i, b) in text.bytes().enumerate() {
    let escape = match b {
      b'"' => "\\\"",
      b'\\' => "\\\\",
      b'\n' => "\\n",
      b'\r' => "\\r",
      b'\t' => "\\t",
      0..=0x1f => "",
      _ => continue,
    };
    out.push_str(&text[last..i]);
    if escape.is_empty() {
      out.push_str(&format!("\\u{b:04x}"));
    } else {
      out.push_str(escape);
    }
    last = i + 1;
  }
  out.push_str(&text[last..]);
  out.push('"');
}

/// Offset of the first byte in `bytes` that ends a plain run inside a JSON string: `"`, `\` or a
/// control character (below 0x20). Eight bytes at a time (SWAR): for each test, the usual
/// "has a zero byte" expression `(v - 0x01..) & !v & 0x80..`, which flags every matching byte
/// exactly up to the first one (a borrow can flag bytes above it, never below), so the lowest
/// flag of the three tests together is the first special byte. Bytes of 0x80 and above (UTF-8
/// sequences) are never flagged: `!v` clears their high bit.
fn find_string_special(bytes: &[u8]) -> Option<usize> {
  const ONES: u64 = 0x0101_0101_0101_0101;
  const HIGHS: u64 = 0x8080_8080_8080_8080;
  let mut chunks = bytes.chunks_exact(8);
  let mut offset = 0;
  for chunk in &mut chunks {
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    let v = u64::from_le_bytes(word);
    let quote = v ^ (ONES * u64::from(b'"'));
    let backslash = v ^ (ONES * u64::from(b'\\'));
    let flags = (quote.wrapping_sub(ONES) & !quote)
      | (backslash.wrapping_sub(ONES) & !backslash)
      | (v.wrapping_sub(ONES * 0x20) & !v);
    let flags = flags & HIGHS;
    if flags != 0 {
      return Some(offset + (flags.trailing_zeros() / 8) as usize);
    }
    offset += 8;
  }
  chunks
    .remainder()
    .iter()
    .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
    .map(|at| offset + at)
}

/// Offset of the first `"` or `\` in `bytes`. Most JSON strings are short, where a plain loop
/// beats setting up a vector search.
fn find_quote_or_escape(bytes: &[u8]) -> Option<usize> {
  let head = bytes.len().min(24);
  if let Some(at) = bytes[..head].iter().position(|&b| b == b'"' || b == b'\\') {
    return Some(at);
  }
  memchr::memchr2(b'"', b'\\', &bytes[head..]).map(|at| at + head)
}

/// Whether `bytes` holds a control character (not allowed raw inside a JSON string). Written
/// without an early exit so that it compiles to a vectorised loop.
fn has_control(bytes: &[u8]) -> bool {
  bytes.iter().fold(false, |found, &b| found | (b < 0x20))
}

#[cfg(test)]
mod tests {
  use super::super::censor::{Censor, Replacer};
  use super::super::patterns::{self, Scanner};
  use super::*;

  fn policy(paths: &[&str]) -> Policy {
    let keys: Vec<String> = rules::DEFAULT_KEYS.iter().map(|s| s.to_string()).collect();
    let names: Vec<String> = patterns::names().iter().map(|s| s.to_string()).collect();
    Policy {
      keys: Keys::new(&keys).unwrap(),
      paths: paths
        .iter()
        .map(|p| rules::parse_path(p).unwrap())
        .collect(),
      scanner: Scanner::new(&names).unwrap(),
      replacer: Replacer {
        censor: Censor::Text("[REDACTED]".into()),
        card_last4: false,
      },
      max_len: 1 << 20,
    }
  }

  fn run(p: &Policy, input: &str) -> String {
    match p.redact_json(input) {
      Ok(Some(out)) => out,
      Ok(None) => input.to_owned(),
      Err(Unreadable) => p.fail_closed(input),
    }
  }

  #[test]
  fn keys_at_any_depth_after_unescaping() {
    let p = policy(&[]);
    assert_eq!(
      run(
        &p,
        r#"{"user":{"name":"a","Password":"x","n":[{"API_KEY":{"deep":1}}]}}"#
      ),
      r#"{"user":{"name":"a","Password":"[REDACTED]","n":[{"API_KEY":"[REDACTED]"}]}}"#
    );
    assert_eq!(
      run(&p, r#"{"pass\u0077ord": "x"}"#),
      r#"{"pass\u0077ord": "[REDACTED]"}"#
    );
  }

  #[test]
  fn paths_and_values() {
    let p = policy(&[
      r#"req.headers["x-custom"]"#,
      "items[*].pin",
      "**.ssn",
      "list[1]",
    ]);
    assert_eq!(
      run(
        &p,
        r#"{"req":{"headers":{"x-custom":"v","X-Custom":"kept"}},"items":[{"pin":1234},{"pin":"5"}],"a":{"b":{"ssn":"1"}},"list":[1,2,3]}"#
      ),
      r#"{"req":{"headers":{"x-custom":"[REDACTED]","X-Custom":"kept"}},"items":[{"pin":"[REDACTED]"},{"pin":"[REDACTED]"}],"a":{"b":{"ssn":"[REDACTED]"}},"list":[1,"[REDACTED]",3]}"#
    );
    assert_eq!(
      run(
        &p,
        r#"{"msg":"GET /cb?token=abc123 card 4111 1111 1111 1111"}"#
      ),
      r#"{"msg":"GET /cb?token=[REDACTED] card [REDACTED]"}"#
    );
    let escaped = r#"{"msg":"\u0065yJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"}"#;
    assert_eq!(run(&p, escaped), r#"{"msg":"[REDACTED]"}"#);
  }

  #[test]
  fn strings_are_written_as_json() {
    let mut out = String::new();
    write_json_string(&mut out, "a\"b\\c\n\u{1}\u{7f} é ✓");
    assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\u{7f} é ✓\"");
    assert_eq!(
      serde_json::from_str::<String>(&out).unwrap(),
      "a\"b\\c\n\u{1}\u{7f} é ✓"
    );
  }

  #[test]
  fn clean_input_is_untouched_and_bad_input_fails_closed() {
    let p = policy(&["a.b"]);
    let clean = "{ \"n\" : 1.50e+3 , \"s\":\"caf\u{e9} \\n\", \"a\": [true,false,null,-0] }\n";
    assert!(p.redact_json(clean).unwrap().is_none());
    for bad in [
      "{",
      "{\"a\":}",
      "[1,]",
      "01",
      "{\"a\":1}x",
      "\"\u{1}\"",
      "{\"a\":\"\\x\"}",
      "nul",
      "",
    ] {
      assert_eq!(run(&p, bad), "\"[REDACTED]\"", "{bad:?}");
    }
    assert_eq!(run(&p, "{oops}\n"), "\"[REDACTED]\"\n");
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
    assert_eq!(run(&p, &deep), "\"[REDACTED]\"");
  }

  #[test]
  fn the_eight_byte_string_scan_finds_what_a_byte_loop_finds() {
    // Bytes around each boundary the word tests depend on, and UTF-8 lead/continuation bytes.
    const ALPHABET: [u8; 14] = [
      b'a', b' ', b'!', b'"', b'#', b'\\', b']', 0x00, 0x01, 0x1f, 0x7f, 0x80, 0xc3, 0xff,
    ];
    let naive = |bytes: &[u8]| {
      bytes
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
    };
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      state
    };
    for _ in 0..200_000 {
      let len = (next() % 40) as usize;
      // Mostly plain bytes, so that special ones fall anywhere, often after a whole word.
      let bytes: Vec<u8> = (0..len)
        .map(|_| match next() % 8 {
          0 => ALPHABET[(next() % ALPHABET.len() as u64) as usize],
          _ => b'a' + (next() % 26) as u8,
        })
        .collect();
      assert_eq!(find_string_special(&bytes), naive(&bytes), "{bytes:?}");
    }
    for special in [b'"', b'\\', 0x00, 0x1f] {
      for at in 0..24 {
        let mut bytes = vec![0x20u8; 24];
        bytes[at] = special;
        // A special byte after the first one never hides it.
        if at + 1 < 24 {
          bytes[at + 1] = 0x00;
        }
        assert_eq!(find_string_special(&bytes), Some(at));
      }
    }
  }
}
