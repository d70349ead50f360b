//! The ciphertext envelope, byte for byte (also documented in docs/keyring.md for other languages):
//!
//! ```text
//! offset  size  field
//! 0       1     version          0x01
//! 1       1     algorithm        0x01 = AES-256-GCM, 96-bit random nonce, 128-bit tag
//! 2       1     key id length L  1..=64
//! 3       L     key id           ASCII letters, digits and . _ : -
//! 3+L     12    nonce
//! 15+L    n     ciphertext       n = plaintext length
//! 15+L+n  16    tag
//! ```
//!
//! The associated data is the header (bytes `0..3+L`) followed by the caller's context, so the
//! version, algorithm and key id are authenticated and a ciphertext only decrypts under the
//! context it was made for. The text form is `rmp1.` followed by the envelope in unpadded
//! base64url.

use ring::aead::NONCE_LEN;

use super::key::TAG_LEN;
use crate::error::{Code, Error, Result};

pub const VERSION: u8 = 1;
pub const ALG_AES_256_GCM: u8 = 1;
pub const MAX_KEY_ID_LEN: usize = 64;
pub const TEXT_PREFIX: &str = "rmp1.";
/// Largest plaintext accepted (64 MiB); larger data belongs in a streaming format.
pub const MAX_PLAINTEXT_LEN: usize = 64 * 1024 * 1024;
/// Largest envelope that can be valid.
pub const MAX_ENVELOPE_LEN: usize = 3 + MAX_KEY_ID_LEN + NONCE_LEN + MAX_PLAINTEXT_LEN + TAG_LEN;
/// Size of the envelope around the plaintext, for a key id of `key_id_len` bytes.
pub const fn overhead(key_id_len: usize) -> usize {
  3 + key_id_len + NONCE_LEN + TAG_LEN
}

/// The one error every malformed, truncated or tampered ciphertext gets.
pub fn decrypt_error() -> Error {
  Error::new(Code::Decrypt, "The ciphertext could not be decrypted")
}

/// Key ids are short, printable and safe to show in messages and logs.
pub fn is_valid_key_id(id: &[u8]) -> bool {
  (1..=MAX_KEY_ID_LEN).contains(&id.len())
    && id
      .iter()
      .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// The fields of an envelope, borrowed from it.
pub struct Parts<'a> {
  /// Bytes `0..3+L`, authenticated as the start of the associated data.
  pub header: &'a [u8],
  pub key_id: &'a str,
  pub nonce: [u8; NONCE_LEN],
  /// Where the ciphertext is in the envelope.
  pub body: std::ops::Range<usize>,
  pub tag: [u8; TAG_LEN],
}

/// Splits an envelope into its fields. Checks the structure only; authenticity comes from
/// decryption.
pub fn parse(envelope: &[u8]) -> Result<Parts<'_>> {
  let [version, algorithm, id_len, rest @ ..] = envelope else {
    return Err(decrypt_error());
  };
  let id_len = usize::from(*id_len);
  if *version != VERSION || *algorithm != ALG_AES_256_GCM || envelope.len() < overhead(id_len) {
    return Err(decrypt_error());
  }
  let key_id = rest.get(..id_len).ok_or_else(decrypt_error)?;
  if !is_valid_key_id(key_id) || envelope.len() > MAX_ENVELOPE_LEN {
    return Err(decrypt_error());
  }
  let key_id = std::str::from_utf8(key_id).map_err(|_| decrypt_error())?;
  let header_len = 3 + id_len;
  let body_start = header_len + NONCE_LEN;
  let body_end = envelope.len() - TAG_LEN;
  let mut nonce = [0u8; NONCE_LEN];
  nonce.copy_from_slice(&envelope[header_len..body_start]);
  let mut tag = [0u8; TAG_LEN];
  tag.copy_from_slice(&envelope[body_end..]);
  Ok(Parts {
    header: &envelope[..header_len],
    key_id,
    nonce,
    body: body_start..body_end,
    tag,
  })
}

/// Writes the header and nonce and copies the plaintext after them, leaving room for the tag:
/// the caller encrypts `body` in place and writes the tag at the end.
pub fn layout(
  key_id: &str,
  nonce: [u8; NONCE_LEN],
  plaintext: &[u8],
) -> (Vec<u8>, std::ops::Range<usize>) {
  let mut envelope = Vec::with_capacity(overhead(key_id.len()) + plaintext.len());
  // Key ids are validated to at most 64 bytes when the keyring is built.
  envelope.extend_from_slice(&[VERSION, ALG_AES_256_GCM, key_id.len() as u8]);
  envelope.extend_from_slice(key_id.as_bytes());
  envelope.extend_from_slice(&nonce);
  let start = envelope.len();
  envelope.extend_from_slice(plaintext);
  let end = envelope.len();
  envelope.resize(end + TAG_LEN, 0);
  (envelope, start..end)
}

/// Header followed by context: the associated data.
pub fn associated_data(header: &[u8], context: &[u8]) -> Vec<u8> {
  let mut aad = Vec::with_capacity(header.len() + context.len());
  aad.extend_from_slice(header);
  aad.extend_from_slice(context);
  aad
}

/// `rmp1.` + unpadded base64url.
pub fn to_text(envelope: &[u8]) -> String {
  let mut text = String::with_capacity(TEXT_PREFIX.len() + crate::b64::encoded_len(envelope.len()));
  text.push_str(TEXT_PREFIX);
  crate::b64::encode_url_into(envelope, &mut text);
  text
}

/// Strict inverse of [`to_text`]: the prefix, canonical unpadded base64url, and a length that
/// could be valid, checked before decoding anything.
pub fn from_text(text: &str) -> Result<Vec<u8>> {
  let body = text.strip_prefix(TEXT_PREFIX).ok_or_else(decrypt_error)?;
  let min = crate::b64::encoded_len(overhead(1));
  let max = crate::b64::encoded_len(MAX_ENVELOPE_LEN);
  if body.len() < min || body.len() > max {
    return Err(decrypt_error());
  }
  crate::b64::decode_url(body).ok_or_else(decrypt_error)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn layout_then_parse() {
    let (mut envelope, body) = layout("2026-01", [9u8; 12], b"hello");
    assert_eq!(
      &envelope[..10],
      &[1, 1, 7, b'2', b'0', b'2', b'6', b'-', b'0', b'1']
    );
    assert_eq!(&envelope[body.clone()], b"hello");
    let len = envelope.len();
    envelope[len - TAG_LEN..].copy_from_slice(&[5u8; 16]);
    let parts = parse(&envelope).unwrap();
    assert_eq!(parts.key_id, "2026-01");
    assert_eq!(parts.header, &envelope[..10]);
    assert_eq!(parts.nonce, [9u8; 12]);
    assert_eq!(parts.body, body);
    assert_eq!(parts.tag, [5u8; 16]);
  }

  #[test]
  fn rejects_malformed_envelopes() {
    let (good, _) = layout("k", [0u8; 12], b"");
    assert!(parse(&good).is_ok());
    let mut cases: Vec<Vec<u8>> = vec![vec![], vec![1], vec![1, 1], vec![1, 1, 1]];
    for len in 0..good.len() {
      cases.push(good[..len].to_vec());
    }
    let mut wrong_version = good.clone();
    wrong_version[0] = 2;
    let mut wrong_alg = good.clone();
    wrong_alg[1] = 0;
    let mut zero_id = good.clone();
    zero_id[2] = 0;
    let mut bad_id = good.clone();
    bad_id[3] = b'/';
    let mut long_id = good.clone();
    long_id[2] = 200;
    cases.extend([wrong_version, wrong_alg, zero_id, bad_id, long_id]);
    for case in cases {
      assert_eq!(
        parse(&case).err().map(|e| e.code),
        Some(Code::Decrypt),
        "{case:?}"
      );
    }
  }

  #[test]
  fn text_form_is_strict() {
    let (envelope, _) = layout("key-1", [3u8; 12], b"data");
    let text = to_text(&envelope);
    assert!(text.starts_with("rmp1."));
    assert_eq!(from_text(&text).unwrap(), envelope);
    let bad = [
      text.replacen("rmp1.", "rmp2.", 1),
      text.replacen("rmp1.", "", 1),
      format!("{text}="),
      format!("{text}\n"),
      format!(" {text}"),
      format!("{}+{}", &text[..10], &text[11..]),
      format!("{}={}", &text[..10], &text[11..]),
      "rmp1.".into(),
      format!(
        "rmp1.{}",
        "A".repeat(crate::b64::encoded_len(MAX_ENVELOPE_LEN) + 1)
      ),
    ];
    for case in bad {
      assert!(from_text(&case).is_err(), "{case:?}");
    }
  }
}
