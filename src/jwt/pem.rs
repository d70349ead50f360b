//! PEM (RFC 7468) decoding: the label and DER bytes of a key file.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

/// Whether the bytes hold a PEM block anywhere. Such input is always read as a key file and never
/// as an HMAC secret, whatever comes before the block (the fast-jwt algorithm-confusion CVEs
/// came from deciding this with an anchored pattern).
pub fn looks_like_pem(bytes: &[u8]) -> bool {
  bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// One decoded block: its label (`PRIVATE KEY`, `PUBLIC KEY`, `RSA PRIVATE KEY`, ...) and DER.
pub struct Block {
  pub label: String,
  pub der: Zeroizing<Vec<u8>>,
}

/// Why a PEM file was refused. The text never quotes the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
  Malformed,
  Encrypted,
}

/// Decodes the first block that is not `EC PARAMETERS` (OpenSSL writes one before a SEC1 key).
pub fn decode(text: &str) -> Result<Block, Problem> {
  let mut rest = text;
  loop {
    let start = rest.find("-----BEGIN ").ok_or(Problem::Malformed)?;
    let after = &rest[start + 11..];
    let label_end = after.find("-----").ok_or(Problem::Malformed)?;
    let label = &after[..label_end];
    let body_and_rest = &after[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body_and_rest.find(&end_marker).ok_or(Problem::Malformed)?;
    let body = &body_and_rest[..body_end];
    rest = &body_and_rest[body_end + end_marker.len()..];
    if label == "EC PARAMETERS" {
      continue;
    }
    if label.contains("ENCRYPTED") || body.contains(':') {
      return Err(Problem::Encrypted);
    }
    let compact: Zeroizing<String> = Zeroizing::new(
      body
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect(),
    );
    let der = STANDARD
      .decode(compact.as_bytes())
      .map_err(|_| Problem::Malformed)?;
    if der.is_empty() {
      return Err(Problem::Malformed);
    }
    return Ok(Block {
      label: label.to_owned(),
      der: Zeroizing::new(der),
    });
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn decodes_blocks_and_skips_ec_parameters() {
    let text = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
                -----BEGIN EC PRIVATE KEY-----\r\nAQID\r\nBA==\r\n-----END EC PRIVATE KEY-----\n";
    let block = decode(text).unwrap();
    assert_eq!(block.label, "EC PRIVATE KEY");
    assert_eq!(&*block.der, &[1, 2, 3, 4]);
    assert!(looks_like_pem(b"\x00junk -----BEGIN PUBLIC KEY-----"));
    assert!(!looks_like_pem(b"a-secret-with-dashes-----"));
  }

  #[test]
  fn rejects_malformed_and_encrypted_files() {
    let encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAQID\n-----END RSA PRIVATE KEY-----";
    assert_eq!(decode(encrypted).err(), Some(Problem::Encrypted));
    let pkcs8 = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAQID\n-----END ENCRYPTED PRIVATE KEY-----";
    assert_eq!(decode(pkcs8).err(), Some(Problem::Encrypted));
    for bad in [
      "",
      "-----BEGIN PUBLIC KEY-----\nAQID\n",
      "-----BEGIN PUBLIC KEY-----\nAQID\n-----END PRIVATE KEY-----",
      "-----BEGIN PUBLIC KEY-----\nA*ID\n-----END PUBLIC KEY-----",
      "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----",
    ] {
      assert_eq!(decode(bad).err(), Some(Problem::Malformed), "{bad:?}");
    }
  }
}
