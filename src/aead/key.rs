//! One AES-256-GCM key: ring's prepared key, wiped from memory when dropped, plus random nonces.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM, NONCE_LEN};
use zeroize::{zeroize_flat_type, Zeroizing};

use crate::error::{Error, Result};

pub const KEY_LEN: usize = 32;
pub const TAG_LEN: usize = 16;

/// An AES-256-GCM key whose expanded key schedule is overwritten with zeros on drop.
///
/// ring keeps its prepared key (AES round keys and GHASH table) inline in `LessSafeKey`, with no
/// heap allocation of its own, and does not wipe it (briansmith/ring#15). rampart keeps the key
/// in a box it never moves out of, and zeroes those bytes after ring's drop glue has run.
pub struct Key {
  prepared: Box<MaybeUninit<LessSafeKey>>,
}

/// Every call reaches the key through this, so the `unsafe` is in one place.
impl Key {
  /// `bytes` must be 32 bytes; callers check the length and report it.
  pub fn new(bytes: &Zeroizing<Vec<u8>>) -> Option<Key> {
    let unbound = UnboundKey::new(&AES_256_GCM, bytes).ok()?;
    let mut prepared = Box::new(MaybeUninit::uninit());
    prepared.write(LessSafeKey::new(unbound));
    Some(Key { prepared })
  }

  fn get(&self) -> &LessSafeKey {
    // SAFETY: `prepared` is initialised in `new`, the only constructor, and stays initialised
    // until `drop`, after which no `&self` exists.
    unsafe { self.prepared.assume_init_ref() }
  }

  /// Encrypts `in_out` in place and returns the tag.
  pub fn seal(&self, nonce: [u8; NONCE_LEN], aad: &[u8], in_out: &mut [u8]) -> Option<Tag> {
    self
      .get()
      .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
      .ok()
  }

  /// Decrypts `in_out` in place if `tag` authenticates it; on failure ring has zeroed `in_out`.
  pub fn open(
    &self,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    tag: [u8; TAG_LEN],
    in_out: &mut [u8],
  ) -> bool {
    self
      .get()
      .open_in_place_separate_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        Tag::from(tag),
        in_out,
        0..,
      )
      .is_ok()
  }
}

impl Drop for Key {
  fn drop(&mut self) {
    let slot: *mut MaybeUninit<LessSafeKey> = &mut *self.prepared;
    // SAFETY: the value was initialised in `new` and is dropped exactly once, here. After that
    // the slot is treated as plain bytes: `MaybeUninit<LessSafeKey>` is valid for any bit
    // pattern, including all zeroes, holds no pointers to other allocations (ring's key is
    // inline), and nothing reads it again before the box frees it.
    unsafe {
      (*slot).assume_init_drop();
      zeroize_flat_type(slot);
    }
  }
}

/// Random bytes for nonces, drawn from the OS in blocks rather than one system call per nonce.
/// Per thread, so worker threads never share a block.
struct NonceSource {
  block: [u8; 1024],
  used: usize,
}

thread_local! {
  static NONCES: RefCell<NonceSource> = const {
    RefCell::new(NonceSource { block: [0; 1024], used: 1024 })
  };
}

/// A fresh 96-bit random nonce, or `None` if the OS random source failed.
pub fn random_nonce() -> Option<[u8; NONCE_LEN]> {
  NONCES.with(|cell| {
    let mut source = cell.try_borrow_mut().ok()?;
    if source.used + NONCE_LEN > source.block.len() {
      getrandom::fill(&mut source.block).ok()?;
      source.used = 0;
    }
    let start = source.used;
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(source.block.get(start..start + NONCE_LEN)?);
    // Used bytes are cleared so a nonce cannot be handed out twice by mistake.
    source.block[start..start + NONCE_LEN].fill(0);
    source.used += NONCE_LEN;
    Some(nonce)
  })
}

/// A key given as text: base64 or base64url of its bytes (the length is checked by the keyring).
pub fn from_text(text: &str, name: &str) -> Result<Zeroizing<Vec<u8>>> {
  crate::b64::decode_key_text(text)
    .map(Zeroizing::new)
    .ok_or_else(|| Error::arg_value(name, "is not valid base64 or base64url"))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn keys_as_text() {
    let bytes: Vec<u8> = (0u8..32).collect();
    let std = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let url = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    assert_eq!(*from_text(std, "k").unwrap(), bytes);
    assert_eq!(*from_text(url, "k").unwrap(), bytes);
    let e = from_text("not base64!", "options.keys[0].key").unwrap_err();
    assert_eq!(e.code, crate::error::Code::InvalidArgValue);
    assert!(!e.message.contains("not base64!"));
  }
  use std::collections::HashSet;

  #[test]
  fn nonces_do_not_repeat() {
    let mut seen = HashSet::new();
    for _ in 0..100_000 {
      assert!(seen.insert(random_nonce().unwrap()));
    }
  }

  #[test]
  fn seal_then_open() {
    let key = Key::new(&Zeroizing::new(vec![7u8; KEY_LEN])).unwrap();
    let mut data = b"attack at dawn".to_vec();
    let nonce = random_nonce().unwrap();
    let tag = key.seal(nonce, b"aad", &mut data).unwrap();
    let mut tag_bytes = [0u8; TAG_LEN];
    tag_bytes.copy_from_slice(tag.as_ref());
    assert_ne!(data, b"attack at dawn");
    let mut copy = data.clone();
    assert!(key.open(nonce, b"aad", tag_bytes, &mut copy));
    assert_eq!(copy, b"attack at dawn");
    let mut copy = data.clone();
    assert!(!key.open(nonce, b"aaD", tag_bytes, &mut copy));
    assert!(Key::new(&Zeroizing::new(vec![7u8; 16])).is_none());
  }
}
