//! Stored password hashes: strict parsing of argon2 PHC strings and bcrypt strings, and encoding
//! of the argon2id PHC strings rampart writes.
//!
//! Parsing reads only numbers and short base64 fields out of a string capped at
//! [`MAX_ENCODED_LEN`] bytes, so it allocates almost nothing; the caller checks the parsed cost
//! against its bounds before any hashing memory is reserved.

use crate::error::{Code, Error, Result};

/// Longest stored hash accepted. Real argon2 strings are about 100 bytes, bcrypt ones 60.
pub const MAX_ENCODED_LEN: usize = 512;
/// Salt and tag lengths accepted in argon2 strings (bytes).
const SALT_LEN: std::ops::RangeInclusive<usize> = 8..=64;
const TAG_LEN: std::ops::RangeInclusive<usize> = 4..=128;
/// node-argon2's `associatedData`, stored as `data=`.
const MAX_DATA_LEN: usize = 64;
/// Argon2's own limit on lanes.
pub const MAX_LANES: u32 = 0x00FF_FFFF;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
  Argon2d,
  Argon2i,
  Argon2id,
}

/// A parsed argon2 PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argon2Hash {
  pub variant: Variant,
  /// 0x10 or 0x13 (19). Strings without `v=` are 0x10, as in the reference implementation.
  pub version: u32,
  pub memory_kib: u32,
  pub time: u32,
  pub lanes: u32,
  pub data: Vec<u8>,
  pub salt: Vec<u8>,
  pub tag: Vec<u8>,
}

/// A parsed bcrypt string (`$2a$`, `$2b$` or `$2y$`), kept whole for the bcrypt crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BcryptHash {
  pub cost: u32,
  pub encoded: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredHash {
  Argon2(Argon2Hash),
  Bcrypt(BcryptHash),
}

fn format_error(why: &str) -> Error {
  Error::new(
    Code::HashFormat,
    format!("The stored hash is not a valid argon2 PHC or bcrypt string: {why}"),
  )
}

/// Parses a stored hash. Errors never quote the string: it is a credential.
pub fn parse(encoded: &str) -> Result<StoredHash> {
  if encoded.is_empty() {
    return Err(format_error("it is empty"));
  }
  if encoded.len() > MAX_ENCODED_LEN {
    return Err(format_error(&format!(
      "it is longer than {MAX_ENCODED_LEN} bytes"
    )));
  }
  // Both formats are pure ASCII; checking it here also makes the byte slicing below safe.
  if !encoded.is_ascii() {
    return Err(format_error("it contains non-ASCII characters"));
  }
  if encoded.starts_with("$argon2") {
    parse_argon2(encoded).map(StoredHash::Argon2)
  } else if encoded.starts_with("$2") {
    parse_bcrypt(encoded).map(StoredHash::Bcrypt)
  } else {
    Err(format_error("unknown algorithm prefix"))
  }
}

fn parse_argon2(encoded: &str) -> Result<Argon2Hash> {
  // "", "argon2id", ["v=19",] "m=..,t=..,p=..[,data=..]", salt, tag
  let fields: Vec<&str> = encoded.split('$').collect();
  let (variant_str, rest) = match fields.as_slice() {
    ["", variant, rest @ ..] => (*variant, rest),
    _ => return Err(format_error("missing '$' fields")),
  };
  let variant = match variant_str {
    "argon2id" => Variant::Argon2id,
    "argon2i" => Variant::Argon2i,
    "argon2d" => Variant::Argon2d,
    _ => return Err(format_error("unknown argon2 variant")),
  };
  let (version, params, salt, tag) = match rest {
    [v, params, salt, tag] => {
      let version = match *v {
        "v=19" => 0x13,
        "v=16" => 0x10,
        _ => return Err(format_error("unsupported version")),
      };
      (version, *params, *salt, *tag)
    }
    [params, salt, tag] => (0x10, *params, *salt, *tag),
    _ => return Err(format_error("wrong number of '$' fields")),
  };

  let (mut m, mut t, mut p, mut data) = (None, None, None, None);
  for pair in params.split(',') {
    let (key, value) = pair
      .split_once('=')
      .ok_or_else(|| format_error("parameter without '='"))?;
    let slot_taken = match key {
      "m" => m.replace(decimal(value)?).is_some(),
      "t" => t.replace(decimal(value)?).is_some(),
      "p" => p.replace(decimal(value)?).is_some(),
      "data" => data.replace(b64_decode(value)?).is_some(),
      _ => return Err(format_error("unsupported parameter")),
    };
    if slot_taken {
      return Err(format_error("repeated parameter"));
    }
  }
  let (Some(memory_kib), Some(time), Some(lanes)) = (m, t, p) else {
    return Err(format_error("m, t and p are required"));
  };
  let data = data.unwrap_or_default();
  if data.len() > MAX_DATA_LEN {
    return Err(format_error("associated data is too long"));
  }
  if time < 1 || !(1..=MAX_LANES).contains(&lanes) || u64::from(memory_kib) < 8 * u64::from(lanes) {
    return Err(format_error(
      "invalid cost (t >= 1, 1 <= p <= 2^24-1, m >= 8p)",
    ));
  }
  let salt = b64_decode(salt)?;
  let tag = b64_decode(tag)?;
  if !SALT_LEN.contains(&salt.len()) {
    return Err(format_error("salt length out of range"));
  }
  if !TAG_LEN.contains(&tag.len()) {
    return Err(format_error("hash length out of range"));
  }
  Ok(Argon2Hash {
    variant,
    version,
    memory_kib,
    time,
    lanes,
    data,
    salt,
    tag,
  })
}

fn parse_bcrypt(encoded: &str) -> Result<BcryptHash> {
  // $2b$10$ + 22 salt chars + 31 hash chars = 60 bytes.
  const ALPHABET: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let bytes = encoded.as_bytes();
  if bytes.len() != 60 {
    return Err(format_error("a bcrypt hash is 60 characters"));
  }
  let prefix = &encoded[..4];
  if !matches!(prefix, "$2a$" | "$2b$" | "$2y$") {
    return Err(format_error("unsupported bcrypt version"));
  }
  let cost_str = &encoded[4..6];
  if bytes[6] != b'$' || !cost_str.bytes().all(|b| b.is_ascii_digit()) {
    return Err(format_error("malformed bcrypt cost"));
  }
  let cost: u32 = cost_str
    .parse()
    .map_err(|_| format_error("malformed bcrypt cost"))?;
  if !(4..=31).contains(&cost) {
    return Err(format_error("bcrypt cost must be between 4 and 31"));
  }
  if !bytes[7..].iter().all(|b| ALPHABET.contains(b)) {
    return Err(format_error("invalid bcrypt base64"));
  }
  Ok(BcryptHash {
    cost,
    encoded: encoded.to_owned(),
  })
}

/// A canonical unsigned decimal: digits only, no sign, no leading zero, fits in u32.
fn decimal(s: &str) -> Result<u32> {
  let canonical = !s.is_empty()
    && s.len() <= 10
    && s.bytes().all(|b| b.is_ascii_digit())
    && (s == "0" || !s.starts_with('0'));
  if !canonical {
    return Err(format_error("malformed number"));
  }
  s.parse().map_err(|_| format_error("number too large"))
}

/// Standard base64 without padding, as PHC strings use it; strict (see `crate::b64`).
fn b64_decode(s: &str) -> Result<Vec<u8>> {
  crate::b64::decode_standard(s).ok_or_else(|| format_error("invalid base64"))
}

/// `$argon2id$v=19$m=..,t=..,p=..$salt$tag`, the form node-argon2 and @node-rs/argon2 write.
pub fn encode_argon2id(memory_kib: u32, time: u32, lanes: u32, salt: &[u8], tag: &[u8]) -> String {
  format!(
    "$argon2id$v=19$m={memory_kib},t={time},p={lanes}${}${}",
    crate::b64::encode_standard(salt),
    crate::b64::encode_standard(tag)
  )
}

#[cfg(test)]
mod tests {
  use super::*;

  const GOOD: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";

  fn code(s: &str) -> Code {
    parse(s).expect_err(s).code
  }

  #[test]
  fn parses_argon2id() {
    let StoredHash::Argon2(h) = parse(GOOD).unwrap() else {
      panic!("not argon2")
    };
    assert_eq!(h.variant, Variant::Argon2id);
    assert_eq!(
      (h.version, h.memory_kib, h.time, h.lanes),
      (0x13, 19456, 2, 1)
    );
    assert_eq!(h.salt, b"somesaltsomesalt");
    assert_eq!(h.tag.len(), 32);
  }

  #[test]
  fn accepts_any_parameter_order_and_data() {
    let s =
      "$argon2i$m=64,p=1,t=3,data=YWQ$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    let StoredHash::Argon2(h) = parse(s).unwrap() else {
      panic!()
    };
    assert_eq!(
      (h.variant, h.version, h.time, h.lanes),
      (Variant::Argon2i, 0x10, 3, 1)
    );
    assert_eq!(h.data, b"ad");
  }

  #[test]
  fn rejects_malformed_strings() {
    let cases = [
      "",
      "argon2id$v=19$m=1,t=1,p=1$c29tZXNhbHQ$abcd",
      "$argon2x$v=19$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=20$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=64,t=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=64,t=1,p=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=064,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=-64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=7,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=64,t=1,p=1,keyid=AA$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbH$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=64,t=1,p=1$c29tZXNh bHQ$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$",
      "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ",
      "$argon2id$v=19$m=64,t=1,p=1$c29t$CTFhFdXPJO1aFaMaO6Mm5c8y",
      "$2b$10$abc",
      "$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
      "$2b$03$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
      "$2b$1a$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
      "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhW!",
      "plaintext-password",
      "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lh\u{e9}",
      "$2\u{e9}10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
    ];
    for case in cases {
      assert_eq!(code(case), Code::HashFormat, "{case}");
    }
    assert_eq!(code(&"$".repeat(MAX_ENCODED_LEN + 1)), Code::HashFormat);
  }

  #[test]
  fn parses_bcrypt() {
    let s = "$2y$12$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
    let StoredHash::Bcrypt(h) = parse(s).unwrap() else {
      panic!()
    };
    assert_eq!(h.cost, 12);
  }

  #[test]
  fn encodes_like_the_reference() {
    let s = encode_argon2id(19456, 2, 1, b"somesaltsomesalt", &[0u8; 32]);
    assert_eq!(
      s,
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    );
    assert!(matches!(parse(&s), Ok(StoredHash::Argon2(_))));
  }
}
