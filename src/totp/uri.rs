//! `otpauth://` key URIs (the Google Authenticator Key-Uri-Format that every app reads):
//! `otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30`.

use super::base32;
use super::otp::Otp;
use crate::error::{Error, Result};

/// Longest issuer or account name, in bytes.
pub const MAX_LABEL_PART: usize = 256;

/// RFC 3986 percent-encoding of everything but the unreserved characters (what
/// `encodeURIComponent` does, and also `!'()*`), so `:`, `@`, `&`, `=`, `?`, `#`, `/` and
/// spaces (as `%20`, never `+`) cannot change the URI's structure.
pub fn percent_encode(text: &str, out: &mut String) {
  for &b in text.as_bytes() {
    if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
      out.push(b as char);
    } else {
      out.push('%');
      out.push(
        char::from_digit(u32::from(b >> 4), 16)
          .unwrap_or('0')
          .to_ascii_uppercase(),
      );
      out.push(
        char::from_digit(u32::from(b & 15), 16)
          .unwrap_or('0')
          .to_ascii_uppercase(),
      );
    }
  }
}

/// Issuer and account names: 1 to 256 bytes, no colon (the label's separator; apps split on
/// it even when encoded) and no control characters.
pub fn check_label_part(name: &str, value: &str) -> Result<()> {
  if value.is_empty() || value.len() > MAX_LABEL_PART {
    return Err(Error::out_of_range(
      name,
      format!("1 to {MAX_LABEL_PART} bytes long"),
    ));
  }
  if value.contains(':') || value.chars().any(char::is_control) {
    return Err(Error::arg_value(
      name,
      "must not contain a colon or control characters",
    ));
  }
  Ok(())
}

/// The key URI for `otp`, labelled `issuer:account` and with the `issuer` parameter (both, as
/// the format recommends). Optional parameters are always written, so apps that assume
/// defaults cannot silently disagree.
pub fn build(otp: &Otp, issuer: &str, account: &str) -> Result<String> {
  check_label_part("options.issuer", issuer)?;
  check_label_part("options.account", account)?;
  let mut uri = String::with_capacity(128 + 3 * (issuer.len() * 2 + account.len()));
  uri.push_str("otpauth://totp/");
  percent_encode(issuer, &mut uri);
  uri.push(':');
  percent_encode(account, &mut uri);
  uri.push_str("?secret=");
  uri.push_str(&base32::encode(&otp.secret));
  uri.push_str("&issuer=");
  percent_encode(issuer, &mut uri);
  uri.push_str("&algorithm=");
  uri.push_str(otp.algorithm.name());
  uri.push_str(&format!("&digits={}&period={}", otp.digits, otp.period));
  Ok(uri)
}

#[cfg(test)]
mod tests {
  use super::super::otp::Algorithm;
  use super::*;
  use zeroize::Zeroizing;

  #[test]
  fn builds_the_key_uri_format() {
    let otp = Otp::new(
      Algorithm::Sha1,
      Zeroizing::new(b"12345678901234567890".to_vec()),
      6,
      30,
    );
    assert_eq!(
      build(&otp, "ACME Co", "john.doe@email.com").unwrap(),
      "otpauth://totp/ACME%20Co:john.doe%40email.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"
    );
    let uri = build(&otp, "a&b=c?d#e/f+g", "Zoë Ω").unwrap();
    assert!(uri.starts_with("otpauth://totp/a%26b%3Dc%3Fd%23e%2Ff%2Bg:Zo%C3%AB%20%CE%A9?secret="));
  }

  #[test]
  fn refuses_colons_controls_and_sizes() {
    let otp = Otp::new(Algorithm::Sha1, Zeroizing::new(vec![1; 20]), 6, 30);
    assert!(build(&otp, "a:b", "c").is_err());
    assert!(build(&otp, "a", "b\nc").is_err());
    assert!(build(&otp, "", "c").is_err());
    assert!(build(&otp, "a", &"x".repeat(257)).is_err());
  }
}
