#![no_main]
//! JWS verify: the header/claims JSON readers, base64url, the signature check and the claims
//! policy. Properties: no panic; a token that verifies stops verifying when any bit of its
//! signature changes; a verified payload is JSON text; a token the signer makes from fuzzed
//! claims either is refused by the signer or verifies (with a changed signature it never does).
use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use rampart_fuzz::jwt::token::{SignConfig, VerifyConfig};
use rampart_fuzz::support::{flip_signature, jwt_pair};

const NOW: f64 = 1_700_000_000.0;

thread_local! {
  static PAIRS: RefCell<Vec<(SignConfig, VerifyConfig)>> = RefCell::new(vec![
    jwt_pair("RFC 7515 A.1 HS256"),
    jwt_pair("RFC 8037 A.4 EdDSA"),
    jwt_pair("RFC 7515 A.3 ES256"),
    jwt_pair("RFC 7515 A.4 ES512"),
  ]);
}

fn check_rejects_changed_signature(verify: &VerifyConfig, token: &str, at: usize, mask: u8) {
  if let Some(changed) = flip_signature(token, at, mask) {
    assert!(
      verify.verify(&changed, NOW).is_err(),
      "a token with a changed signature verified"
    );
  }
}

fuzz_target!(|data: &[u8]| {
  if data.len() < 3 {
    return;
  }
  let (mode, at, mask, rest) = (data[0], data[1] as usize, data[2], &data[3..]);
  let text = String::from_utf8_lossy(rest);
  PAIRS.with(|pairs| {
    let pairs = pairs.borrow();
    let (sign, verify) = &pairs[usize::from(mode & 0x7f) % pairs.len()];
    if mode & 0x80 == 0 {
      // The input as a token.
      if let Ok(payload) = verify.verify(&text, NOW) {
        assert!(serde_json::from_str::<serde_json::Value>(&payload).is_ok());
        check_rejects_changed_signature(verify, &text, at, mask);
      }
    } else if let Ok(token) = sign.sign(&text, NOW as i64) {
      // The input as the claims of a new token.
      match verify.verify(&token, NOW) {
        Ok(payload) => assert!(serde_json::from_str::<serde_json::Value>(&payload).is_ok()),
        Err(e) => assert_ne!(
          e.code,
          rampart_fuzz::error::Code::JwtSignatureInvalid,
          "a token the signer made does not verify"
        ),
      }
      check_rejects_changed_signature(verify, &token, at, mask);
    }
  });
});
