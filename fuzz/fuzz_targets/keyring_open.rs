#![no_main]
//! Keyring envelopes, binary and text. Properties: no panic; fuzzed bytes never decrypt (nothing
//! authenticates without the key); the text form of a well-formed envelope round-trips;
//! an envelope made here decrypts to its plaintext, and with any one bit changed (header, nonce,
//! ciphertext or tag) or another context it does not.
use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use rampart_fuzz::aead::{envelope, keyring::Ring};
use zeroize::Zeroizing;

thread_local! {
  static RING: RefCell<Ring> = RefCell::new(
    Ring::new(
      vec![
        ("2026-01".to_owned(), Zeroizing::new(vec![7u8; 32])),
        ("old".to_owned(), Zeroizing::new(vec![9u8; 32])),
      ],
      "2026-01",
      1 << 40,
    )
    .unwrap(),
  );
}

fuzz_target!(|data: &[u8]| {
  let Some((&mode, rest)) = data.split_first() else {
    return;
  };
  RING.with(|ring| {
    let ring = ring.borrow();
    match mode % 3 {
      0 => {
        // Fuzzed binary envelope.
        let _ = Ring::key_id(rest);
        assert!(ring.decrypt(rest, b"").is_err(), "fuzzed bytes decrypted");
        // Any envelope that parses has a text form that round-trips (the text reader checks
        // lengths first, so arbitrary bytes need not).
        if envelope::parse(rest).is_ok() {
          let text = envelope::to_text(rest);
          assert_eq!(
            envelope::from_text(&text).as_deref().ok(),
            Some(rest),
            "text form did not round-trip"
          );
        }
      }
      1 => {
        // Fuzzed text envelope.
        let text = String::from_utf8_lossy(rest);
        if let Ok(bytes) = envelope::from_text(&text) {
          assert!(ring.decrypt(&bytes, b"").is_err(), "fuzzed text decrypted");
          let again = envelope::to_text(&bytes);
          assert_eq!(envelope::from_text(&again).ok(), Some(bytes));
        }
      }
      _ => {
        // Fuzzed plaintext and context: seal, open, tamper.
        let split = rest.first().map_or(0, |&n| usize::from(n)).min(rest.len());
        let (context, plaintext) = rest.split_at(split);
        let Ok(sealed) = ring.encrypt(plaintext, context) else {
          return;
        };
        let mut envelope = sealed.envelope;
        assert_eq!(&**ring.decrypt(&envelope, context).unwrap(), plaintext);
        let text = envelope::to_text(&envelope);
        assert_eq!(envelope::from_text(&text).unwrap(), envelope);
        let mut other = context.to_vec();
        other.push(0);
        assert!(
          ring.decrypt(&envelope, &other).is_err(),
          "wrong context decrypted"
        );
        let at = usize::from(*plaintext.first().unwrap_or(&0)) * 7 % envelope.len();
        envelope[at] ^= 0x20;
        assert!(
          ring.decrypt(&envelope, context).is_err(),
          "tampered envelope decrypted"
        );
      }
    }
  });
});
