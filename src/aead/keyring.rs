//! The keyring logic behind the `Keyring` class. Several keys, one primary: encrypt with the primary, decrypt with whichever key the envelope's
//! key id names (never by trying every key), and count encryptions per key.

use std::cell::Cell;

use ring::aead::NONCE_LEN;
use zeroize::Zeroizing;

use super::envelope::{self, decrypt_error, Parts, MAX_PLAINTEXT_LEN};
use super::key::{random_nonce, Key, KEY_LEN};
use crate::error::{Code, Error, Result};

/// Default cap on encryptions per key: 2^30, a quarter of NIST SP 800-38D's 2^32 bound for random
/// 96-bit nonces. Reaching half of it raises a warning.
pub const DEFAULT_LIMIT: u64 = 1 << 30;
pub const MAX_KEYS: usize = 1000;
/// Largest `context` accepted, in bytes.
pub const MAX_CONTEXT_LEN: usize = 64 * 1024;

/// `maxEncryptionsPerKey`, or the default when it is not given.
pub fn limit_or_default(limit: Option<u32>) -> u64 {
  limit.map_or(DEFAULT_LIMIT, u64::from)
}

/// A call's `context` is at most [`MAX_CONTEXT_LEN`] bytes (`RangeError` beyond).
pub fn check_context(context: &[u8]) -> Result<()> {
  if context.len() > MAX_CONTEXT_LEN {
    return Err(Error::out_of_range(
      "options.context",
      format!("at most {MAX_CONTEXT_LEN} bytes"),
    ));
  }
  Ok(())
}

pub struct Entry {
  pub id: String,
  key: Key,
  pub encryptions: Cell<u64>,
}

pub struct Ring {
  entries: Vec<Entry>,
  primary: usize,
  pub limit: u64,
}

/// What an encryption did besides producing the envelope.
pub struct Sealed {
  pub envelope: Vec<u8>,
  /// True exactly once per key: when its count reaches half the limit.
  pub reached_warning: bool,
}

impl Ring {
  /// `keys` are (id, 32-byte key) pairs; ids must be unique and valid, `primary` one of them.
  pub fn new(keys: Vec<(String, Zeroizing<Vec<u8>>)>, primary: &str, limit: u64) -> Result<Self> {
    if keys.is_empty() || keys.len() > MAX_KEYS {
      return Err(Error::out_of_range(
        "options.keys",
        format!("an array of 1 to {MAX_KEYS} keys"),
      ));
    }
    let mut entries: Vec<Entry> = Vec::with_capacity(keys.len());
    for (index, (id, bytes)) in keys.into_iter().enumerate() {
      if !envelope::is_valid_key_id(id.as_bytes()) {
        return Err(Error::arg_value(
          &format!("options.keys[{index}].id"),
          "must be 1 to 64 characters from A-Z a-z 0-9 . _ : -",
        ));
      }
      if entries.iter().any(|e| e.id == id) {
        return Err(Error::arg_value(
          &format!("options.keys[{index}].id"),
          format!("repeats the key id \"{id}\""),
        ));
      }
      if bytes.len() != KEY_LEN {
        return Err(Error::out_of_range(
          &format!("options.keys[{index}].key"),
          format!("{KEY_LEN} bytes long (got {} bytes)", bytes.len()),
        ));
      }
      let key = Key::new(&bytes)
        .ok_or_else(|| Error::new(Code::Internal, "AES-256-GCM rejected a 32-byte key"))?;
      entries.push(Entry {
        id,
        key,
        encryptions: Cell::new(0),
      });
    }
    let primary = entries
      .iter()
      .position(|e| e.id == primary)
      .ok_or_else(|| {
        Error::arg_value("options.primary", "must be the id of one of options.keys")
      })?;
    Ok(Ring {
      entries,
      primary,
      limit,
    })
  }

  pub fn primary_id(&self) -> &str {
    &self.entries[self.primary].id
  }

  pub fn entries(&self) -> &[Entry] {
    &self.entries
  }

  /// Encrypts under the primary key with a fresh random nonce.
  pub fn encrypt(&self, plaintext: &[u8], context: &[u8]) -> Result<Sealed> {
    let nonce = random_nonce()
      .ok_or_else(|| Error::new(Code::Internal, "the OS random number generator failed"))?;
    self.encrypt_with_nonce(plaintext, context, nonce)
  }

  /// [`Ring::encrypt`] with a given nonce: for known-answer tests only, never exported.
  pub(super) fn encrypt_with_nonce(
    &self,
    plaintext: &[u8],
    context: &[u8],
    nonce: [u8; NONCE_LEN],
  ) -> Result<Sealed> {
    if plaintext.len() > MAX_PLAINTEXT_LEN {
      return Err(Error::out_of_range(
        "plaintext",
        format!("at most {MAX_PLAINTEXT_LEN} bytes"),
      ));
    }
    let entry = &self.entries[self.primary];
    let used = entry.encryptions.get();
    if used >= self.limit {
      return Err(Error::new(
        Code::KeyLimit,
        format!(
          "Key \"{}\" has reached its limit of {} encryptions; make a new key the primary",
          entry.id, self.limit
        ),
      ));
    }
    let (mut out, body) = envelope::layout(&entry.id, nonce, plaintext);
    let header_len = 3 + entry.id.len();
    let aad = envelope::associated_data(&out[..header_len], context);
    let tag = entry
      .key
      .seal(nonce, &aad, &mut out[body.clone()])
      .ok_or_else(|| Error::new(Code::Internal, "AES-256-GCM encryption failed"))?;
    out[body.end..].copy_from_slice(tag.as_ref());
    entry.encryptions.set(used + 1);
    Ok(Sealed {
      envelope: out,
      reached_warning: used + 1 == self.limit / 2,
    })
  }

  fn entry_for(&self, parts: &Parts<'_>) -> Result<&Entry> {
    self
      .entries
      .iter()
      .find(|e| e.id == parts.key_id)
      .ok_or_else(|| {
        Error::new(
          Code::KeyNotFound,
          format!("This keyring has no key with id \"{}\"", parts.key_id),
        )
      })
  }

  /// Decrypts an envelope. `output` receives the ciphertext and returns a buffer holding a copy
  /// of it (a JS Buffer in the bindings), which is then decrypted in place: the plaintext is
  /// written once, straight where the caller wants it. On failure ring zeroes the buffer.
  pub fn decrypt_with<B: AsMut<[u8]>>(
    &self,
    envelope: &[u8],
    context: &[u8],
    output: impl FnOnce(&[u8]) -> Result<B>,
  ) -> Result<B> {
    let parts = envelope::parse(envelope)?;
    let entry = self.entry_for(&parts)?;
    let aad = envelope::associated_data(parts.header, context);
    let mut out = output(&envelope[parts.body.clone()])?;
    if !entry.key.open(parts.nonce, &aad, parts.tag, out.as_mut()) {
      return Err(decrypt_error());
    }
    Ok(out)
  }

  /// [`Ring::decrypt_with`] into memory that is wiped on drop.
  pub fn decrypt(&self, envelope: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    self.decrypt_with(envelope, context, |ciphertext| {
      Ok(Zeroizing::new(ciphertext.to_vec()))
    })
  }

  /// The key id an envelope names (read from its unauthenticated header).
  pub fn key_id(envelope: &[u8]) -> Result<&str> {
    envelope::parse(envelope).map(|parts| parts.key_id)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn option_rules() {
    assert_eq!(limit_or_default(None), DEFAULT_LIMIT);
    assert_eq!(limit_or_default(Some(5)), 5);
    assert!(check_context(&[0; MAX_CONTEXT_LEN]).is_ok());
    let e = check_context(&[0; MAX_CONTEXT_LEN + 1]).unwrap_err();
    assert_eq!(e.code, Code::OutOfRange);
    assert!(e.message.contains("options.context"));
  }
  use hex_literal::hex;

  fn z(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(bytes.to_vec())
  }

  fn ring_with(keys: &[(&str, [u8; 32])], primary: &str) -> Ring {
    let keys = keys.iter().map(|(id, k)| (id.to_string(), z(k))).collect();
    Ring::new(keys, primary, DEFAULT_LIMIT).unwrap()
  }

  /// Seals raw AES-256-GCM with ring: used to check vectors without the envelope.
  fn raw_seal(key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let key = Key::new(&z(key))?;
    let mut data = pt.to_vec();
    let tag = key.seal(nonce.try_into().ok()?, aad, &mut data)?;
    Some((data, tag.as_ref().to_vec()))
  }

  /// NIST GCM specification test cases 13-16 (AES-256, 96-bit IV).
  #[test]
  fn nist_gcm_vectors() {
    let k15 = hex!("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    let p15 = hex!(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
    );
    let c15 = hex!(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
    );
    let iv = hex!("cafebabefacedbaddecaf888");
    let aad16 = hex!("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    // (key, nonce, aad, plaintext, ciphertext, tag)
    type Case<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], &'a [u8], &'a [u8]);
    let cases: [Case; 4] = [
      (
        &[0; 32],
        &[0; 12],
        &[],
        &[],
        &[],
        &hex!("530f8afbc74536b9a963b4f1c4cb738b"),
      ),
      (
        &[0; 32],
        &[0; 12],
        &[],
        &[0; 16],
        &hex!("cea7403d4d606b6e074ec5d3baf39d18"),
        &hex!("d0d1c8a799996bf0265b98b5d48ab919"),
      ),
      (
        &k15,
        &iv,
        &[],
        &p15,
        &c15,
        &hex!("b094dac5d93471bdec1a502270e3cc6c"),
      ),
      (
        &k15,
        &iv,
        &aad16,
        &p15[..60],
        &c15[..60],
        &hex!("76fc6ece0f4e1768cddf8853bb2d551b"),
      ),
    ];
    for (key, nonce, aad, pt, ct, tag) in cases {
      let (got_ct, got_tag) = raw_seal(key, nonce, aad, pt).unwrap();
      assert_eq!((got_ct.as_slice(), got_tag.as_slice()), (ct, tag));
    }
  }

  /// Wycheproof aes_gcm_test.json: every 256-bit key, 96-bit nonce, 128-bit tag case. Valid cases
  /// must encrypt to the expected bytes and decrypt; invalid ones (modified tags, ...) must fail.
  #[test]
  fn wycheproof_aes_gcm() {
    use wycheproof::aead::{TestName, TestSet};
    use wycheproof::TestResult;
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let mut checked = 0;
    for group in set.test_groups {
      if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
        continue;
      }
      for test in group.tests {
        let key = Key::new(&z(&test.key)).unwrap();
        let nonce: [u8; 12] = test.nonce.as_slice().try_into().unwrap();
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&test.tag);
        let mut data = test.ct.to_vec();
        let opened = key.open(nonce, &test.aad, tag, &mut data);
        match test.result {
          TestResult::Valid | TestResult::Acceptable => {
            assert!(opened, "tc {}", test.tc_id);
            assert_eq!(data, test.pt.as_slice(), "tc {}", test.tc_id);
            let (ct, t) = raw_seal(&test.key, &test.nonce, &test.aad, &test.pt).unwrap();
            assert_eq!(
              (ct.as_slice(), t.as_slice()),
              (&test.ct[..], &test.tag[..]),
              "tc {}",
              test.tc_id
            );
          }
          TestResult::Invalid => {
            assert!(!opened, "tc {} must be rejected", test.tc_id);
            assert!(data.iter().all(|&b| b == 0), "no partial plaintext");
          }
        }
        checked += 1;
      }
    }
    assert!(checked >= 50, "only {checked} Wycheproof cases matched");
  }

  #[test]
  fn rotation_and_key_ids() {
    let a = ring_with(&[("A", [1; 32])], "A");
    let old = a.encrypt(b"secret", b"ctx").unwrap().envelope;
    assert_eq!(Ring::key_id(&old).unwrap(), "A");
    let ab = ring_with(&[("A", [1; 32]), ("B", [2; 32])], "B");
    assert_eq!(&*ab.decrypt(&old, b"ctx").unwrap(), b"secret");
    let new = ab.encrypt(b"secret", b"ctx").unwrap().envelope;
    assert_eq!(Ring::key_id(&new).unwrap(), "B");
    let b = ring_with(&[("B", [2; 32])], "B");
    assert_eq!(b.decrypt(&old, b"ctx").unwrap_err().code, Code::KeyNotFound);
    assert_eq!(&*b.decrypt(&new, b"ctx").unwrap(), b"secret");
    // Same id, different key bytes: authentication fails, it is not a key-not-found.
    let imposter = ring_with(&[("B", [3; 32])], "B");
    assert_eq!(
      imposter.decrypt(&new, b"ctx").unwrap_err().code,
      Code::Decrypt
    );
  }

  #[test]
  fn every_bit_flip_and_truncation_fails() {
    let ring = ring_with(&[("k1", [9; 32])], "k1");
    let envelope = ring
      .encrypt(b"0123456789", b"users.email:42")
      .unwrap()
      .envelope;
    for bit in 0..envelope.len() * 8 {
      let mut tampered = envelope.clone();
      tampered[bit / 8] ^= 1 << (bit % 8);
      let err = ring.decrypt(&tampered, b"users.email:42").unwrap_err();
      assert!(
        matches!(err.code, Code::Decrypt | Code::KeyNotFound),
        "bit {bit}"
      );
    }
    for len in 0..envelope.len() {
      assert_eq!(
        ring
          .decrypt(&envelope[..len], b"users.email:42")
          .unwrap_err()
          .code,
        Code::Decrypt
      );
    }
    assert_eq!(
      ring.decrypt(&envelope, b"users.email:43").unwrap_err().code,
      Code::Decrypt
    );
    assert_eq!(
      ring.decrypt(&envelope, b"").unwrap_err().code,
      Code::Decrypt
    );
  }

  #[test]
  fn limit_is_enforced_and_warned_once() {
    let ring = Ring::new(vec![("k".into(), z(&[1; 32]))], "k", 4).unwrap();
    let warnings: Vec<bool> = (0..4)
      .map(|_| ring.encrypt(b"x", b"").unwrap().reached_warning)
      .collect();
    assert_eq!(warnings, [false, true, false, false]);
    assert_eq!(ring.encrypt(b"x", b"").err().unwrap().code, Code::KeyLimit);
  }

  #[test]
  fn rejects_bad_configuration() {
    let key = || z(&[1; 32]);
    type Keys = Vec<(String, Zeroizing<Vec<u8>>)>;
    let cases: Vec<(Keys, &str, Code)> = vec![
      (vec![], "a", Code::OutOfRange),
      (vec![("a".into(), z(&[1; 31]))], "a", Code::OutOfRange),
      (vec![("a".into(), z(&[1; 33]))], "a", Code::OutOfRange),
      (vec![("".into(), key())], "", Code::InvalidArgValue),
      (vec![("a/b".into(), key())], "a/b", Code::InvalidArgValue),
      (vec![("x".repeat(65), key())], "x", Code::InvalidArgValue),
      (
        vec![("a".into(), key()), ("a".into(), key())],
        "a",
        Code::InvalidArgValue,
      ),
      (vec![("a".into(), key())], "b", Code::InvalidArgValue),
    ];
    for (keys, primary, code) in cases {
      assert_eq!(
        Ring::new(keys, primary, DEFAULT_LIMIT).err().unwrap().code,
        code
      );
    }
  }

  /// The committed known-answer envelopes (made with node:crypto from the documented layout),
  /// reproduced byte for byte.
  #[test]
  fn committed_known_answer_envelopes() {
    let fixtures: serde_json::Value =
      serde_json::from_str(include_str!("../../__test__/fixtures/keyring-kat.json")).unwrap();
    let hex = |v: &serde_json::Value| -> Vec<u8> {
      let s = v.as_str().unwrap();
      (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
    };
    let cases = fixtures.as_array().unwrap();
    assert!(cases.len() >= 4);
    for case in cases {
      let id = case["keyId"].as_str().unwrap();
      let keys = vec![(id.to_string(), z(&hex(&case["key"])))];
      let ring = Ring::new(keys, id, DEFAULT_LIMIT).unwrap();
      let nonce: [u8; 12] = hex(&case["nonce"]).try_into().unwrap();
      let context = case["context"].as_str().unwrap().as_bytes();
      let sealed = ring
        .encrypt_with_nonce(&hex(&case["plaintext"]), context, nonce)
        .unwrap()
        .envelope;
      assert_eq!(sealed, hex(&case["envelope"]), "{id}");
      assert_eq!(envelope::to_text(&sealed), case["text"].as_str().unwrap());
      assert_eq!(
        *ring.decrypt(&sealed, context).unwrap(),
        hex(&case["plaintext"])
      );
    }
  }

  #[test]
  fn known_answer_envelope() {
    let ring = ring_with(&[("2026-01", [0x42; 32])], "2026-01");
    let sealed = ring
      .encrypt_with_nonce(b"alice@example.com", b"users.email:42", [0x24; 12])
      .unwrap()
      .envelope;
    // Layout: header, nonce, then ciphertext and tag as computed by AES-256-GCM directly.
    let header = [&[1u8, 1, 7][..], b"2026-01"].concat();
    let aad = [&header[..], b"users.email:42"].concat();
    let (ct, tag) = raw_seal(&[0x42; 32], &[0x24; 12], &aad, b"alice@example.com").unwrap();
    assert_eq!(sealed, [&header[..], &[0x24; 12], &ct, &tag].concat());
  }
}
