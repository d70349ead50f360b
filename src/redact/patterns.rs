//! Value patterns: secrets recognised by their shape inside any string (JWTs, bearer
//! credentials, card numbers, cloud and SaaS keys, PEM private keys, credentials in URLs and
//! query strings, cookie headers). A keyword prefilter (Aho-Corasick) decides which rules run at
//! all, so clean text costs one linear scan; the rules are `regex` automata (linear time, no
//! backtracking) plus validators (Luhn and issuer ranges for cards).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

/// A found secret: the byte span to replace, and whether it is a card number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
  pub start: usize,
  pub end: usize,
  pub card: bool,
}

struct Rule {
  name: &'static str,
  /// Which part of a match is the secret.
  secret: Part,
  regex: &'static str,
  /// Literals one of which appears wherever the rule can match. For rules that ignore case,
  /// the prefilter looks for each keyword in lower, Capitalized and UPPER case.
  keywords: &'static [&'static str],
  ignore_case: bool,
}

/// Which part of a match is the secret, found without capture groups (resolving groups costs
/// several times more than finding the match).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
  Whole,
  /// After the scheme word and the spaces that follow it (`Bearer <secret>`).
  AfterScheme,
  /// After the first `=` or `:`, then spaces and an opening quote (`token=<secret>`).
  AfterSeparator,
  /// The password of `scheme://user:<secret>@`.
  UrlPassword,
}

/// Every pattern, in the order they are documented.
const RULES: [Rule; 14] = [
  Rule {
    name: "jwt",
    secret: Part::Whole,
    // JWE (five segments: header, encrypted key (empty for `dir`), IV, ciphertext, tag) first,
    // then JWS/JWT (three).
    regex: r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
    keywords: &["eyJ"],
    ignore_case: false,
  },
  Rule {
    name: "bearer",
    secret: Part::AfterScheme,
    regex: r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}",
    keywords: &["bearer", "basic"],
    ignore_case: true,
  },
  Rule {
    name: "credit-card",
    secret: Part::Whole,
    regex: r"(?:\d[ -]?){12,18}\d",
    keywords: &[],
    ignore_case: false,
  },
  Rule {
    name: "aws-access-key",
    secret: Part::Whole,
    regex: r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
    keywords: &["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
    ignore_case: false,
  },
  Rule {
    name: "google-api-key",
    secret: Part::Whole,
    regex: r"\bAIza[0-9A-Za-z_-]{35}",
    keywords: &["AIza"],
    ignore_case: false,
  },
  Rule {
    name: "private-key",
    secret: Part::Whole,
    regex: r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|\z)",
    keywords: &["-----BEGIN"],
    ignore_case: false,
  },
  Rule {
    name: "github-token",
    secret: Part::Whole,
    regex: r"\b(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b",
    keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    ignore_case: false,
  },
  Rule {
    name: "slack-token",
    secret: Part::Whole,
    regex: r"\bxox[abposr]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{16,}",
    keywords: &["xox", "hooks.slack.com"],
    ignore_case: false,
  },
  Rule {
    name: "stripe-key",
    secret: Part::Whole,
    regex: r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]{10,99}\b|\bwhsec_[A-Za-z0-9]{20,}\b",
    keywords: &["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"],
    ignore_case: false,
  },
  Rule {
    name: "npm-token",
    secret: Part::Whole,
    regex: r"\bnpm_[A-Za-z0-9]{36}\b",
    keywords: &["npm_"],
    ignore_case: false,
  },
  Rule {
    name: "url-credentials",
    secret: Part::UrlPassword,
    regex: r"[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s/?#@:]+:[^\s/?#@]+@",
    keywords: &["://"],
    ignore_case: false,
  },
  Rule {
    name: "secret-param",
    secret: Part::AfterSeparator,
    // `name=value` and `name: value` in free text, query strings, connection strings and
    // printed objects. A quoted value is redacted up to its closing quote (spaces, `;`, `&` and
    // `,` included); an unquoted one up to a space, quote, `&`, `,`, `;` or closing bracket. An
    // `Authorization:` value is redacted to the end of the line, whatever its scheme.
    regex: r#"(?i)authorization["']?\s*[:=]\s*["']?[^\r\n"']+|(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|auth|signature|sig|session[_-]?id|credential)["']?\s*(?:=|:)\s*(?:"[^"\r\n]*"|'[^'\r\n]*'|[^\s"'&,;}\]\)]+)"#,
    keywords: &[
      "pass",
      "pwd",
      "secret",
      "token",
      "key",
      "auth",
      "sig",
      "session",
      "credential",
    ],
    ignore_case: true,
  },
  Rule {
    name: "oauth-code",
    secret: Part::AfterSeparator,
    // An OAuth authorization code in a redirect URL (`?code=...`, `&code=...`, `#code=...`).
    regex: r#"[?&#](?:code|auth_code)=[^&\s#"']+"#,
    keywords: &["code="],
    ignore_case: false,
  },
  Rule {
    name: "cookie",
    secret: Part::AfterSeparator,
    regex: r"(?im)\b(?:set-)?cookie\s*:\s*[^\r\n]+",
    keywords: &["cookie"],
    ignore_case: true,
  },
];

/// The pattern names, in documentation order.
pub fn names() -> Vec<&'static str> {
  RULES.iter().map(|r| r.name).collect()
}

struct Compiled {
  rule: &'static Rule,
  regex: Regex,
}

/// The chosen patterns, compiled once.
pub struct Scanner {
  rules: Vec<Compiled>,
  /// Keywords of every rule that has some, and for each the index into `rules`.
  prefilter: Option<Keywords>,
  keyword_rule: Vec<usize>,
  cards: Option<usize>,
}

impl Scanner {
  /// Compiles the patterns named in `names` (unknown names are an error naming the choices).
  pub fn new(chosen: &[String]) -> Result<Scanner, String> {
    let mut rules = Vec::new();
    let mut keywords = Vec::new();
    let mut keyword_rule = Vec::new();
    let mut cards = None;
    for name in chosen {
      let Some(rule) = RULES.iter().find(|r| r.name == name) else {
        return Err(format!(
          "names an unknown pattern; choose from {}",
          names().join(", ")
        ));
      };
      if rules.iter().any(|c: &Compiled| c.rule.name == rule.name) {
        continue;
      }
      let regex = Regex::new(rule.regex).map_err(|_| "could not compile a pattern".to_owned())?;
      let index = rules.len();
      if rule.name == "credit-card" {
        cards = Some(index);
      }
      for keyword in rule.keywords {
        let mut forms = vec![keyword.to_string()];
        if rule.ignore_case {
          let mut title = keyword.to_ascii_lowercase();
          title[..1].make_ascii_uppercase();
          forms.extend([
            keyword.to_ascii_lowercase(),
            title,
            keyword.to_ascii_uppercase(),
          ]);
          forms.sort();
          forms.dedup();
        }
        for form in forms {
          keywords.push(form);
          keyword_rule.push(index);
        }
      }
      rules.push(Compiled { rule, regex });
    }
    let prefilter = if keywords.is_empty() {
      None
    } else {
      Some(Keywords::new(&keywords)?)
    };
    Ok(Scanner {
      rules,
      prefilter,
      keyword_rule,
      cards,
    })
  }

  pub fn is_empty(&self) -> bool {
    self.rules.is_empty()
  }

  /// Which rules could match somewhere in `text`, as a bit set over `rules` (at most 64).
  pub fn candidates(&self, text: &[u8]) -> u64 {
    let mut set = 0;
    self.keyword_hits(text, |_, rule| set |= 1 << rule);
    if self.card_possible(text) {
      set |= self.card_bit();
    }
    set
  }

  /// Calls `hit(position, rule)` for every keyword start in `text`, in order.
  pub fn keyword_hits(&self, text: &[u8], mut hit: impl FnMut(usize, usize)) {
    if let Some(prefilter) = &self.prefilter {
      // Leftmost-first search (SIMD-accelerated, unlike overlapping search), restarted one byte
      // after each match start so that keywords overlapping an earlier match are still seen.
      let mut at = 0;
      while let Some((pattern, start)) = prefilter.find_from(text, at) {
        hit(start, self.keyword_rule[pattern]);
        at = start + 1;
      }
    }
  }

  /// The bit of the card rule (0 when it is off).
  pub fn card_bit(&self) -> u64 {
    self.cards.map_or(0, |c| 1 << c)
  }

  /// Whether `text` could hold a card number.
  pub fn card_possible(&self, text: &[u8]) -> bool {
    self.cards.is_some() && has_digit_run(text, 13)
  }

  /// The secrets in `text`, sorted and without overlaps, for the rules in `candidates`.
  pub fn scan(&self, text: &str, candidates: u64) -> Vec<Found> {
    let mut found = Vec::new();
    for (index, compiled) in self.rules.iter().enumerate() {
      if candidates & (1 << index) == 0 {
        continue;
      }
      if Some(index) == self.cards {
        find_cards(text.as_bytes(), |start, end| {
          found.push(Found {
            start,
            end,
            card: true,
          })
        });
        continue;
      }
      let card = false;
      for whole in compiled.regex.find_iter(text) {
        let Some((from, to)) = secret_part(compiled.rule.secret, whole.as_str()) else {
          continue;
        };
        let (start, end) = (whole.start() + from, whole.start() + to);
        if card && !is_card(text.as_bytes(), start, end) {
          continue;
        }
        found.push(Found { start, end, card });
      }
    }
    found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut merged: Vec<Found> = Vec::with_capacity(found.len());
    for f in found {
      match merged.last_mut() {
        Some(last) if f.start < last.end => {
          if f.end > last.end {
            last.end = f.end;
            last.card = false;
          }
        }
        _ => merged.push(f),
      }
    }
    merged
  }
}

/// The keyword search: the SIMD "packed" searcher where the CPU has it (x86-64 with SSSE3,
/// aarch64), which measured about 20x faster here than the general automaton (whose own
/// heuristics did not pick it for these keywords), else the automaton.
enum Keywords {
  Packed(aho_corasick::packed::Searcher),
  Automaton(AhoCorasick),
}

impl Keywords {
  fn new(keywords: &[String]) -> Result<Keywords, String> {
    let packed = aho_corasick::packed::Config::new()
      .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
      .builder()
      .extend(keywords)
      .build();
    if let Some(searcher) = packed {
      return Ok(Keywords::Packed(searcher));
    }
    AhoCorasickBuilder::new()
      .match_kind(MatchKind::LeftmostFirst)
      .build(keywords)
      .map(Keywords::Automaton)
      .map_err(|_| "could not build the keyword prefilter".to_owned())
  }

  /// The leftmost keyword starting at or after `at`: (pattern index, start).
  fn find_from(&self, text: &[u8], at: usize) -> Option<(usize, usize)> {
    match self {
      Keywords::Packed(searcher) => searcher
        .find_in(text, aho_corasick::Span::from(at..text.len()))
        .map(|m| (m.pattern().as_usize(), m.start())),
      Keywords::Automaton(automaton) => automaton
        .find(aho_corasick::Input::new(text).span(at..text.len()))
        .map(|m| (m.pattern().as_usize(), m.start())),
    }
  }
}

/// The secret's span within `matched` (a whole match of a rule), or `None` to skip it.
fn secret_part(part: Part, matched: &str) -> Option<(usize, usize)> {
  let bytes = matched.as_bytes();
  let skip =
    |from: usize, set: &[u8]| from + bytes[from..].iter().take_while(|b| set.contains(b)).count();
  let span = match part {
    Part::Whole => (0, bytes.len()),
    Part::AfterScheme => {
      let space = bytes.iter().position(u8::is_ascii_whitespace)?;
      let start = skip(space, b" \t\r\n\x0b\x0c");
      is_credential(&matched[..space], &matched[start..]).then_some((start, bytes.len()))?
    }
    Part::AfterSeparator => {
      let separator = bytes.iter().position(|&b| b == b'=' || b == b':')?;
      let mut start = skip(separator + 1, b" \t\r\n\x0b\x0c\"'");
      // `Authorization: <scheme> <credentials>`: the scheme's name stays.
      if let Some(space) = matched[start..].find(' ') {
        let scheme = &matched[start..start + space];
        if matched[..separator]
          .to_ascii_lowercase()
          .ends_with("authorization")
          && AUTH_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme))
        {
          start = skip(start + space, b" ");
        }
      }
      // A quoted value: the closing quote stays.
      let quote = start.checked_sub(1).map(|i| bytes[i]);
      let end = match (quote, bytes.last()) {
        (Some(q @ (b'"' | b'\'')), Some(&last)) if last == q && bytes.len() > start => {
          bytes.len() - 1
        }
        _ => bytes.len(),
      };
      (start, end)
    }
    Part::UrlPassword => {
      let authority = matched.find("://")? + 3;
      let colon = authority + matched[authority..].find(':')?;
      (colon + 1, bytes.len().checked_sub(1)?)
    }
  };
  (span.0 < span.1 && matched.is_char_boundary(span.0) && matched.is_char_boundary(span.1))
    .then_some(span)
}

/// HTTP authentication schemes whose name is kept in front of a redacted `Authorization` value.
const AUTH_SCHEMES: [&str; 8] = [
  "Bearer",
  "Basic",
  "Token",
  "Digest",
  "Negotiate",
  "NTLM",
  "ApiKey",
  "AWS4-HMAC-SHA256",
];

/// Tells a credential after `Bearer`/`Basic` from an English word ("Basic authentication
/// required"): a Basic value must decode to `user:password`, a bearer token must hold something
/// other than letters.
fn is_credential(scheme: &str, value: &str) -> bool {
  if scheme.eq_ignore_ascii_case("basic") {
    use base64::Engine;
    return base64::engine::general_purpose::STANDARD
      .decode(value)
      .is_ok_and(|decoded| decoded.contains(&b':'));
  }
  value.bytes().any(|b| !b.is_ascii_alphabetic())
}

/// Calls `found(start, end)` for each card number in `text`: a maximal run of 13 to 19 ASCII
/// digits, single spaces or dashes allowed between them, that [`is_card`] accepts. (Hand-written
/// rather than a counted regex repetition, which measured several times slower.)
fn find_cards(text: &[u8], mut found: impl FnMut(usize, usize)) {
  let mut i = 0;
  while i < text.len() {
    if !text[i].is_ascii_digit() {
      i += 1;
      continue;
    }
    let start = i;
    let mut end = i;
    let mut digits = 0;
    while i < text.len() {
      if text[i].is_ascii_digit() {
        digits += 1;
        i += 1;
        end = i;
      } else if matches!(text[i], b' ' | b'-') && text.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
      } else {
        break;
      }
    }
    if (13..=19).contains(&digits) && is_card(text, start, end) {
      found(start, end);
    }
  }
}

/// Whether `text` holds at least `len` digits in a row, allowing single spaces or dashes
/// between them (as card numbers are written).
pub(super) fn has_digit_run(text: &[u8], len: usize) -> bool {
  let mut digits = 0;
  let mut separator = false;
  let mut i = 0;
  while i < text.len() {
    // Outside a run, skip eight bytes at a time while they hold no digit (most text).
    if digits == 0 {
      while let Some(word) = text.get(i..i + 8) {
        if has_digit8(word) {
          break;
        }
        i += 8;
      }
      if i == text.len() {
        break;
      }
    }
    let b = text[i];
    i += 1;
    if b.is_ascii_digit() {
      digits += 1;
      separator = false;
      if digits >= len {
        return true;
      }
    } else if (b == b' ' || b == b'-') && digits > 0 && !separator {
      separator = true;
    } else {
      digits = 0;
      separator = false;
    }
  }
  false
}

/// Whether the eight bytes of `word` hold an ASCII digit, in one go (SWAR): on each byte's low
/// seven bits `x`, `(127 + 0x3a) - x` has its high bit set when `x <= 0x39` and `x + (127 - 0x2f)`
/// when `x >= 0x30`, neither with a carry or borrow into the next byte; `!v` adds "below 0x80".
fn has_digit8(word: &[u8]) -> bool {
  const ONES: u64 = 0x0101_0101_0101_0101;
  let mut bytes = [0u8; 8];
  bytes.copy_from_slice(word);
  let v = u64::from_le_bytes(bytes);
  let low = v & (ONES * 0x7f);
  let at_most_9 = (ONES * (0x7f + 0x3a)) - low;
  let at_least_0 = low + ONES * (0x7f - 0x2f);
  at_most_9 & at_least_0 & !v & (ONES * 0x80) != 0
}

/// A card number: not glued to other digits or letters, 13-19 digits, a known issuer prefix,
/// and a valid Luhn check digit. Order ids and timestamps rarely pass all three.
fn is_card(text: &[u8], start: usize, end: usize) -> bool {
  let at = |i: Option<usize>| i.and_then(|i| text.get(i)).copied();
  // A letter or digit next to the run, or a decimal point between it and another digit (`3.4111...`,
  // `4111....1111.5`); a full stop that ends a sentence is not glued.
  let glued = |next: Option<u8>, beyond: Option<u8>| {
    next.is_some_and(|b| b.is_ascii_alphanumeric())
      || (next == Some(b'.') && beyond.is_some_and(|b| b.is_ascii_digit()))
  };
  if glued(at(start.checked_sub(1)), at(start.checked_sub(2)))
    || glued(at(Some(end)), at(Some(end + 1)))
  {
    return false;
  }
  let digits: Vec<u8> = text[start..end]
    .iter()
    .filter(|b| b.is_ascii_digit())
    .map(|b| b - b'0')
    .collect();
  if !(13..=19).contains(&digits.len()) || !known_issuer(&digits) {
    return false;
  }
  let sum: u32 = digits
    .iter()
    .rev()
    .enumerate()
    .map(|(i, &d)| {
      let d = u32::from(d);
      if i % 2 == 1 {
        let doubled = d * 2;
        if doubled > 9 {
          doubled - 9
        } else {
          doubled
        }
      } else {
        d
      }
    })
    .sum();
  sum.is_multiple_of(10)
}

fn known_issuer(digits: &[u8]) -> bool {
  let prefix = |n: usize| {
    digits[..n.min(digits.len())]
      .iter()
      .fold(0u32, |acc, &d| acc * 10 + u32::from(d))
  };
  let len = digits.len();
  match digits[0] {
    4 => matches!(len, 13 | 16 | 19),                     // Visa
    5 => (51..=55).contains(&prefix(2)) && len == 16,     // Mastercard
    2 => (2221..=2720).contains(&prefix(4)) && len == 16, // Mastercard 2-series
    3 => {
      matches!(prefix(2), 34 | 37) && len == 15                     // Amex
      || (3528..=3589).contains(&prefix(4)) && (16..=19).contains(&len) // JCB
      || matches!(prefix(2), 36 | 38 | 39) && (14..=19).contains(&len)  // Diners
      || (300..=305).contains(&prefix(3)) && (14..=19).contains(&len)
    }
    6 => {
      prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)) || prefix(2) == 62
    }
    _ => false,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn all() -> Scanner {
    Scanner::new(&names().iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
  }

  fn redacted(text: &str) -> Vec<&str> {
    let s = all();
    s.scan(text, s.candidates(text.as_bytes()))
      .iter()
      .map(|f| &text[f.start..f.end])
      .collect()
  }

  #[test]
  fn finds_each_kind_of_secret() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    assert_eq!(redacted(&format!("GET /cb?x={jwt} 200")), vec![jwt]);
    assert_eq!(
      redacted("Authorization: Bearer abc.def-ghi_123"),
      vec!["abc.def-ghi_123"]
    );
    assert_eq!(
      redacted("authorization: basic dXNlcjpodW50ZXIy"),
      vec!["dXNlcjpodW50ZXIy"]
    );
    assert!(redacted("Basic authentication required; Bearer authentication too").is_empty());
    assert_eq!(
      redacted("card 4111 1111 1111 1111 declined"),
      vec!["4111 1111 1111 1111"]
    );
    assert_eq!(
      redacted("key AKIAIOSFODNN7EXAMPLE used"),
      vec!["AKIAIOSFODNN7EXAMPLE"]
    );
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----";
    assert_eq!(redacted(&format!("x {pem} y")), vec![pem]);
    assert_eq!(
      redacted("-----BEGIN PRIVATE KEY-----\nMIIB truncated"),
      vec!["-----BEGIN PRIVATE KEY-----\nMIIB truncated"]
    );
    let gh = format!("ghp_{}", "a".repeat(36));
    assert_eq!(redacted(&format!("token {gh}")), vec![gh.as_str()]);
    assert_eq!(
      redacted("xoxb-1234567890-abcdefghij"),
      vec!["xoxb-1234567890-abcdefghij"]
    );
    assert_eq!(
      redacted("sk_live_abcdefghij0123"),
      vec!["sk_live_abcdefghij0123"]
    );
    assert_eq!(
      redacted("postgres://app:hunter2@db:5432/x"),
      vec!["hunter2"]
    );
    assert_eq!(redacted("/reset?token=abc123&x=1"), vec!["abc123"]);
    assert_eq!(redacted(r#"{"password":"s3cret"}"#), vec!["s3cret"]);
    assert_eq!(
      redacted("Cookie: sid=abc; theme=dark"),
      vec!["sid=abc; theme=dark"]
    );
  }

  #[test]
  fn cards_need_luhn_an_issuer_and_clean_edges() {
    assert_eq!(redacted("5555555555554444"), vec!["5555555555554444"]);
    assert_eq!(redacted("378282246310005"), vec!["378282246310005"]);
    for clean in [
      "order 4111111111111112", // Luhn fails
      "order 1234567890123452", // no issuer
      "ts 1700000000000123",    // no issuer
      "id 94111111111111111",   // 17 digits, no issuer
      "v4111111111111111",      // glued to a letter
      "3.4111111111111111",     // a decimal
    ] {
      assert!(redacted(clean).is_empty(), "{clean}");
    }
  }

  /// Leftmost-first search reports one keyword per start position, so a keyword that is a
  /// prefix of another rule's keyword could hide it.
  #[test]
  fn no_keyword_is_a_prefix_of_another_rules_keyword() {
    for a in &RULES {
      for b in &RULES {
        if a.name == b.name {
          continue;
        }
        for ka in a.keywords {
          for kb in b.keywords {
            let (ka, kb) = (ka.to_ascii_lowercase(), kb.to_ascii_lowercase());
            assert!(!kb.starts_with(&ka), "{} {ka} / {} {kb}", a.name, b.name);
          }
        }
      }
    }
    // The SIMD searcher takes at most 64 keywords.
    assert!(all().keyword_rule.len() <= 64);
    #[cfg(target_arch = "x86_64")]
    assert!(matches!(all().prefilter, Some(Keywords::Packed(_))));
  }

  #[test]
  fn clean_text_triggers_nothing() {
    let s = all();
    let text = "GET /api/users/42 200 12ms user-agent=curl/8.0 region=eu-west-1";
    assert_eq!(s.candidates(text.as_bytes()), 0);
    assert!(Scanner::new(&["nope".into()]).is_err());
  }

  #[test]
  fn the_word_at_a_time_digit_run_check_agrees_with_a_byte_loop() {
    fn naive(text: &[u8], len: usize) -> bool {
      let (mut digits, mut separator) = (0, false);
      for &b in text {
        if b.is_ascii_digit() {
          digits += 1;
          separator = false;
          if digits >= len {
            return true;
          }
        } else if (b == b' ' || b == b'-') && digits > 0 && !separator {
          separator = true;
        } else {
          digits = 0;
          separator = false;
        }
      }
      false
    }
    // The bytes next to the digit range in each 7-bit half, and separators.
    const ALPHABET: [u8; 12] = [
      b'0', b'9', b'/', b':', b' ', b'-', b'x', 0xb0, 0xb9, 0xaf, 0xba, 0x00,
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      state
    };
    for _ in 0..200_000 {
      let size = (next() % 48) as usize;
      let digit_share = next() % 4;
      let text: Vec<u8> = (0..size)
        .map(|_| match next() % 4 < digit_share {
          true => b'0' + (next() % 10) as u8,
          false => ALPHABET[(next() % ALPHABET.len() as u64) as usize],
        })
        .collect();
      for len in [3, 13] {
        assert_eq!(
          has_digit_run(&text, len),
          naive(&text, len),
          "{text:?} {len}"
        );
      }
    }
    for b in 0..=255u8 {
      assert_eq!(has_digit8(&[b; 8]), b.is_ascii_digit(), "{b:#x}");
      let mut word = [b'x'; 8];
      word[7] = b;
      assert_eq!(has_digit8(&word), b.is_ascii_digit(), "{b:#x} last");
    }
  }
}
