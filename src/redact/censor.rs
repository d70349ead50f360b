//! What a redacted value becomes: a fixed text, or a keyed pseudonym (HMAC-SHA256, so equal
//! secrets give equal pseudonyms across lines without being reversible); card numbers can keep
//! their last four digits.

use ring::hmac;

pub const DEFAULT_CENSOR: &str = "[REDACTED]";

pub enum Censor {
  Text(String),
  /// `[<prefix>:<16 hex digits>]`
  Pseudonym(hmac::Key),
}

pub struct Replacer {
  pub censor: Censor,
  /// Keep the last four digits of card numbers (`**** **** **** 1111`).
  pub card_last4: bool,
}

impl Replacer {
  /// Whether the replacement depends on the secret (pseudonyms) rather than being fixed.
  pub fn uses_value(&self) -> bool {
    matches!(self.censor, Censor::Pseudonym(_))
  }

  /// The text that replaces `secret`.
  pub fn replace(&self, secret: &str, card: bool, out: &mut String) {
    if card && self.card_last4 {
      let digits = secret.bytes().filter(u8::is_ascii_digit).count();
      let mut seen = 0;
      for c in secret.chars() {
        if c.is_ascii_digit() {
          seen += 1;
          out.push(if seen + 4 > digits { c } else { '*' });
        } else {
          out.push(c);
        }
      }
      return;
    }
    match &self.censor {
      Censor::Text(text) => out.push_str(text),
      Censor::Pseudonym(key) => {
        let tag = hmac::sign(key, secret.as_bytes());
        out.push_str("[hmac:");
        for b in &tag.as_ref()[..8] {
          out.push_str(&format!("{b:02x}"));
        }
        out.push(']');
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn texts_masks_and_pseudonyms() {
    let fixed = Replacer {
      censor: Censor::Text("[X]".into()),
      card_last4: true,
    };
    let mut out = String::new();
    fixed.replace("4111-1111-1111-1234", true, &mut out);
    assert_eq!(out, "****-****-****-1234");
    out.clear();
    fixed.replace("hunter2", false, &mut out);
    assert_eq!(out, "[X]");
    let keyed = Replacer {
      censor: Censor::Pseudonym(hmac::Key::new(hmac::HMAC_SHA256, &[7; 32])),
      card_last4: false,
    };
    let (mut a, mut b, mut c) = (String::new(), String::new(), String::new());
    keyed.replace("alice@example.com", false, &mut a);
    keyed.replace("alice@example.com", false, &mut b);
    keyed.replace("bob@example.com", false, &mut c);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), "[hmac:]".len() + 16);
  }
}
