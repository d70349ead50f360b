#![no_main]
//! redactJson and redactText with the default keys, every value pattern and a few paths.
//! Properties: no panic; whenever the input is JSON the output is JSON (redacted, unchanged, or
//! the fail-closed censor); a secret planted under a default key (top level, nested, in an
//! array) never survives; a bearer token planted between lines of fuzzed text never survives.
use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use rampart_fuzz::redact::censor::{Censor, Replacer, DEFAULT_CENSOR};
use rampart_fuzz::redact::json::Policy;
use rampart_fuzz::redact::{patterns, rules};
use serde_json::{json, Value};

const SECRET: &str = "pl4ntedSecretValue9";

thread_local! {
  static POLICY: RefCell<Policy> = RefCell::new(Policy {
    keys: rules::Keys::new(&rules::DEFAULT_KEYS.map(String::from)).unwrap(),
    paths: ["items[*].pin", "**.ssn", "*.b[1]"]
      .iter()
      .map(|p| rules::parse_path(p).unwrap())
      .collect(),
    scanner: patterns::Scanner::new(
      &patterns::names().into_iter().map(String::from).collect::<Vec<_>>(),
    )
    .unwrap(),
    replacer: Replacer {
      censor: Censor::Text(DEFAULT_CENSOR.to_owned()),
      card_last4: false,
    },
    max_len: 1 << 20,
  });
}

fn depth(v: &Value) -> usize {
  match v {
    Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
    Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
    _ => 0,
  }
}

/// The redacted text as the binding returns it (input, output or the fail-closed censor).
fn redacted(policy: &Policy, input: &str) -> String {
  match policy.redact_json(input) {
    Ok(Some(out)) => out,
    Ok(None) => input.to_owned(),
    Err(_) => policy.fail_closed(input),
  }
}

fuzz_target!(|data: &[u8]| {
  let Ok(text) = std::str::from_utf8(data) else {
    return;
  };
  // The fuzzer learns the planted value from the comparisons; an input that already holds it
  // proves nothing about redaction.
  if text.contains(SECRET) {
    return;
  }
  POLICY.with(|policy| {
    let policy = policy.borrow();
    let out = redacted(&policy, text);
    let parsed = serde_json::from_str::<Value>(text);
    if let Ok(value) = &parsed {
      assert!(
        serde_json::from_str::<Value>(&out).is_ok(),
        "JSON input gave output that is not JSON"
      );
      if depth(value) < 100 {
        assert!(
          policy.redact_json(text).is_ok(),
          "readable JSON failed closed"
        );
      }
      // Plant a secret under a default key at three places.
      if depth(value) < 60 {
        let planted = json!({
          "password": SECRET,
          "data": value,
          "nested": { "items": [ { "apiKey": SECRET } ], "x": value },
          "user": { "Session-Id": SECRET }
        });
        let line = serde_json::to_string(&planted).unwrap();
        let out = redacted(&policy, &line);
        assert!(!out.contains(SECRET), "planted secret survived");
        assert!(serde_json::from_str::<Value>(&out).is_ok());
      }
    }
    // Free text, then a bearer token planted between two lines of it.
    let _ = policy.redact_text(text);
    let line = format!("{text}\nAuthorization: Bearer {SECRET}\n{text}");
    let out = policy.redact_text(&line).unwrap_or(line);
    assert!(
      !out.contains(SECRET),
      "planted bearer token survived in text"
    );
  });
});
