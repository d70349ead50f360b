#![no_main]
//! PHC and bcrypt parsing plus needsRehash. Properties: no panic; an argon2id v19 hash that
//! parses re-encodes to a string that parses to the same value (round trip); needsRehash never
//! says "keep" for a string that does not parse.
use libfuzzer_sys::fuzz_target;
use rampart_fuzz::password::{kdf, phc};

fuzz_target!(|data: &[u8]| {
  let Ok(text) = std::str::from_utf8(data) else {
    return;
  };
  let parsed = phc::parse(text);
  let rehash = kdf::needs_rehash(text, kdf::DEFAULT_PARAMS);
  if parsed.is_err() {
    assert!(
      rehash.is_err(),
      "needsRehash accepted a hash that does not parse"
    );
  }
  if let Ok(phc::StoredHash::Argon2(h)) = &parsed {
    if h.variant == phc::Variant::Argon2id && h.version == 0x13 && h.data.is_empty() {
      let again = phc::encode_argon2id(h.memory_kib, h.time, h.lanes, &h.salt, &h.tag);
      match phc::parse(&again) {
        Ok(phc::StoredHash::Argon2(h2)) => assert_eq!(&h2, h, "re-encoded hash differs"),
        other => panic!("re-encoded hash does not parse: {other:?}"),
      }
    }
  }
});
