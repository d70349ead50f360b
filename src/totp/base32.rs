//! RFC 4648 base32 (the alphabet `A-Z2-7`), as authenticator apps use it for TOTP secrets.
//!
//! Encoding writes upper case without padding (what `otpauth://` URIs carry). Decoding is
//! tolerant of what people type or paste: lower case, spaces, hyphens and trailing `=` padding
//! are accepted; any other character, misplaced padding, or a final group with non-zero spare
//! bits (a mistyped or truncated secret) is refused.

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Upper case, unpadded.
pub fn encode(bytes: &[u8]) -> String {
  let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
  let mut buffer: u32 = 0;
  let mut bits = 0u32;
  for &byte in bytes {
    buffer = (buffer << 8) | u32::from(byte);
    bits += 8;
    while bits >= 5 {
      bits -= 5;
      out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
    }
    buffer &= (1 << bits) - 1;
  }
  if bits > 0 {
    out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
  }
  out
}

fn value(c: u8) -> Option<u32> {
  match c {
    b'A'..=b'Z' => Some(u32::from(c - b'A')),
    b'a'..=b'z' => Some(u32::from(c - b'a')),
    b'2'..=b'7' => Some(u32::from(c - b'2') + 26),
    _ => None,
  }
}

/// The bytes of `text`, or `None` if it is not base32. Never panics.
pub fn decode(text: &str) -> Option<Vec<u8>> {
  let mut out = Vec::with_capacity(text.len() * 5 / 8);
  let mut buffer: u32 = 0;
  let mut bits = 0u32;
  let mut symbols = 0usize;
  let mut padding = 0usize;
  for &c in text.as_bytes() {
    match c {
      b' ' | b'-' | b'\t' => continue,
      b'=' => {
        padding += 1;
        continue;
      }
      _ => {}
    }
    if padding > 0 {
      return None; // data after padding
    }
    let v = value(c)?;
    buffer = (buffer << 5) | v;
    bits += 5;
    symbols += 1;
    if bits >= 8 {
      bits -= 8;
      out.push((buffer >> bits) as u8);
      buffer &= (1 << bits) - 1;
    }
  }
  // A final group of 2, 4, 5 or 7 symbols is valid (1, 2, 3, 4 bytes); 1, 3 or 6 are not.
  if matches!(symbols % 8, 1 | 3 | 6) {
    return None;
  }
  if padding > 0 && !(symbols + padding).is_multiple_of(8) {
    return None;
  }
  // Spare bits must be zero, so each secret has exactly one spelling.
  if buffer != 0 {
    return None;
  }
  Some(out)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn rfc4648_vectors() {
    let cases: [(&str, &str); 7] = [
      ("", ""),
      ("f", "MY"),
      ("fo", "MZXQ"),
      ("foo", "MZXW6"),
      ("foob", "MZXW6YQ"),
      ("fooba", "MZXW6YTB"),
      ("foobar", "MZXW6YTBOI"),
    ];
    for (plain, encoded) in cases {
      assert_eq!(encode(plain.as_bytes()), encoded);
      assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
    }
    assert_eq!(decode("MZXW6YTBOI======").unwrap(), b"foobar");
    assert_eq!(decode("MY======").unwrap(), b"f");
  }

  #[test]
  fn tolerant_of_case_spaces_and_hyphens() {
    let secret = b"12345678901234567890";
    let encoded = encode(secret);
    assert_eq!(encoded, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_eq!(
      decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
      secret
    );
    assert_eq!(
      decode("GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ").unwrap(),
      secret
    );
  }

  #[test]
  fn refuses_malformed_text() {
    for bad in [
      "M",
      "MZX",
      "MZXW6Y",
      "MZ1W",
      "MZ0W",
      "MZ8W",
      "MY=A",
      "MY=",
      "MZ",
      "É",
      "MZXW6YTBOI==",
    ] {
      assert_eq!(decode(bad), None, "{bad}");
    }
  }

  #[test]
  fn round_trips_every_length() {
    let bytes: Vec<u8> = (0..=255).collect();
    for len in 0..70 {
      assert_eq!(decode(&encode(&bytes[..len])).unwrap(), &bytes[..len]);
    }
  }
}
