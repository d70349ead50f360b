//! Strict, unpadded base64: the standard alphabet (PHC strings) and the URL-safe one (text
//! envelopes). Decoding rejects padding, whitespace and non-canonical encodings (non-zero unused
//! bits), so every byte string has exactly one accepted text form.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;

/// Decodes standard-alphabet base64 without padding; `None` if it is not canonical.
pub fn decode_standard(text: &str) -> Option<Vec<u8>> {
  STANDARD_NO_PAD.decode(text).ok()
}

pub fn encode_standard(bytes: &[u8]) -> String {
  STANDARD_NO_PAD.encode(bytes)
}

/// Decodes URL-safe base64 without padding; `None` if it is not canonical.
pub fn decode_url(text: &str) -> Option<Vec<u8>> {
  URL_SAFE_NO_PAD.decode(text).ok()
}

/// Appends the URL-safe, unpadded encoding of `bytes` to `out`.
pub fn encode_url_into(bytes: &[u8], out: &mut String) {
  URL_SAFE_NO_PAD.encode_string(bytes, out);
}

/// Key material given as text: standard base64 with padding (`buf.toString('base64')`), or
/// unpadded standard or URL-safe base64 (`buf.toString('base64url')`). Strict otherwise.
pub fn decode_key_text(text: &str) -> Option<Vec<u8>> {
  if text.ends_with('=') {
    STANDARD.decode(text).ok()
  } else {
    URL_SAFE_NO_PAD
      .decode(text)
      .or_else(|_| STANDARD_NO_PAD.decode(text))
      .ok()
  }
}

/// Length of the unpadded encoding of `len` bytes.
pub const fn encoded_len(len: usize) -> usize {
  len / 3 * 4 + (len % 3 * 4).div_ceil(3)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn round_trips_and_rejects_non_canonical_forms() {
    for len in 0..40 {
      let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
      let std_text = encode_standard(&bytes);
      assert_eq!(std_text.len(), encoded_len(len));
      assert_eq!(decode_standard(&std_text).unwrap(), bytes);
      let mut url = String::new();
      encode_url_into(&bytes, &mut url);
      assert_eq!(decode_url(&url).unwrap(), bytes);
    }
    assert_eq!(decode_standard("QQ").unwrap(), b"A");
    for bad in ["QR", "QQ==", "Q", "QQ\n", " QQ", "Q-", "QQ%"] {
      assert!(decode_standard(bad).is_none(), "{bad:?}");
    }
    assert!(decode_url("__8").is_some());
    for bad in ["//8", "__8=", "__9"] {
      assert!(decode_url(bad).is_none(), "{bad:?}");
    }
  }
}
