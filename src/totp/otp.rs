//! HOTP (RFC 4226) and TOTP (RFC 6238): code generation and verification with a window and
//! replay protection. Pure functions over a parsed [`Otp`]; the binding adds JavaScript.

use ring::hmac;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The HMAC behind the codes. SHA-1 is the default: it is what every authenticator app supports
/// (HMAC-SHA-1 is not affected by SHA-1 collisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
  Sha1,
  Sha256,
  Sha512,
}

impl Algorithm {
  pub fn parse(name: &str) -> Option<Self> {
    match name {
      "SHA1" => Some(Algorithm::Sha1),
      "SHA256" => Some(Algorithm::Sha256),
      "SHA512" => Some(Algorithm::Sha512),
      _ => None,
    }
  }

  pub const fn name(self) -> &'static str {
    match self {
      Algorithm::Sha1 => "SHA1",
      Algorithm::Sha256 => "SHA256",
      Algorithm::Sha512 => "SHA512",
    }
  }

  fn ring(self) -> hmac::Algorithm {
    match self {
      Algorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
      Algorithm::Sha256 => hmac::HMAC_SHA256,
      Algorithm::Sha512 => hmac::HMAC_SHA512,
    }
  }
}

/// Shortest secret accepted by default: 128 bits (RFC 4226 R6; 160 recommended).
pub const MIN_SECRET: usize = 16;
/// Shortest secret with `allowShortSecret`: 80 bits, what some older services issued.
pub const MIN_SHORT_SECRET: usize = 10;
/// Longest secret: more than any HMAC block needs (SHA-512 uses 128-byte blocks).
pub const MAX_SECRET: usize = 128;
pub const DEFAULT_PERIOD: u32 = 30;
pub const MAX_PERIOD: u32 = 3600;
pub const DEFAULT_DIGITS: u32 = 6;
pub const MAX_WINDOW: u32 = 10;
/// Longest code text looked at; anything longer is simply not a valid code.
pub const MAX_CODE_LEN: usize = 64;

/// A parsed TOTP configuration. The secret stays here (wiped on drop) and in ring's HMAC key.
pub struct Otp {
  pub algorithm: Algorithm,
  pub digits: u32,
  pub period: u32,
  pub secret: Zeroizing<Vec<u8>>,
  key: hmac::Key,
}

/// A successful verification: the accepted time step and its distance from the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
  pub step: u64,
  pub delta: i64,
}

/// What `verify` compares against.
#[derive(Debug, Clone, Copy)]
pub struct Check {
  /// Unix time in seconds.
  pub time: u64,
  /// Steps accepted on each side of the current one.
  pub window: u32,
  /// The last step accepted for this account: this step and every earlier one are refused.
  pub last_step: Option<u64>,
}

/// `digits` decimal digits (ASCII spaces ignored, as apps display `123 456`), or `None`.
pub fn parse_code(code: &str, digits: u32) -> Option<u32> {
  if code.len() > MAX_CODE_LEN {
    return None;
  }
  let mut value: u32 = 0;
  let mut count = 0u32;
  for &c in code.as_bytes() {
    match c {
      b' ' => continue,
      b'0'..=b'9' => {
        count += 1;
        if count > digits {
          return None;
        }
        value = value * 10 + u32::from(c - b'0');
      }
      _ => return None,
    }
  }
  (count == digits).then_some(value)
}

impl Otp {
  /// Checks lengths and ranges; the caller has decoded the secret.
  pub fn new(algorithm: Algorithm, secret: Zeroizing<Vec<u8>>, digits: u32, period: u32) -> Self {
    let key = hmac::Key::new(algorithm.ring(), &secret);
    Otp {
      algorithm,
      digits,
      period,
      secret,
      key,
    }
  }

  /// RFC 4226 5.3: HMAC over the 8-byte big-endian counter, dynamic truncation, modulo 10^digits.
  pub fn hotp(&self, counter: u64) -> u32 {
    let tag = hmac::sign(&self.key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = (mac[mac.len() - 1] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
      mac[offset],
      mac[offset + 1],
      mac[offset + 2],
      mac[offset + 3],
    ]) & 0x7fff_ffff;
    binary % 10u32.pow(self.digits)
  }

  /// The time step of `time` (Unix seconds).
  pub fn step(&self, time: u64) -> u64 {
    time / u64::from(self.period)
  }

  /// The code for `time`, zero-padded to `digits`.
  pub fn generate(&self, time: u64) -> String {
    format!(
      "{:0width$}",
      self.hotp(self.step(time)),
      width = self.digits as usize
    )
  }

  /// Verifies `code` against every step of the window that is after `last_step`. Every candidate
  /// is computed and compared in constant time (no early exit), so timing does not tell which
  /// step matched. Returns the matched step, or `None`.
  pub fn verify(&self, code: &str, check: Check) -> Option<Match> {
    let given = parse_code(code, self.digits)?;
    let current = self.step(check.time);
    let first = current.saturating_sub(u64::from(check.window));
    let last = current.saturating_add(u64::from(check.window));
    let mut found: Option<Match> = None;
    for step in first..=last {
      if check.last_step.is_some_and(|seen| step <= seen) {
        continue;
      }
      let matched: bool = self.hotp(step).ct_eq(&given).into();
      if matched && found.is_none() {
        found = Some(Match {
          step,
          delta: step as i64 - current as i64,
        });
      }
    }
    found
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn otp(algorithm: Algorithm, seed: &[u8], digits: u32) -> Otp {
    Otp::new(algorithm, Zeroizing::new(seed.to_vec()), digits, 30)
  }

  const SEED20: &[u8] = b"12345678901234567890";
  const SEED32: &[u8] = b"12345678901234567890123456789012";
  const SEED64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

  #[test]
  fn rfc4226_appendix_d() {
    let expected = [
      755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
    ];
    let otp = otp(Algorithm::Sha1, SEED20, 6);
    for (counter, code) in expected.iter().enumerate() {
      assert_eq!(otp.hotp(counter as u64), *code);
    }
  }

  #[test]
  fn rfc6238_appendix_b() {
    let times = [
      59u64,
      1111111109,
      1111111111,
      1234567890,
      2000000000,
      20000000000,
    ];
    let sha1 = [
      "94287082", "07081804", "14050471", "89005924", "69279037", "65353130",
    ];
    let sha256 = [
      "46119246", "68084774", "67062674", "91819424", "90698825", "77737706",
    ];
    let sha512 = [
      "90693936", "25091201", "99943326", "93441116", "38618901", "47863826",
    ];
    for (alg, seed, codes) in [
      (Algorithm::Sha1, SEED20, sha1),
      (Algorithm::Sha256, SEED32, sha256),
      (Algorithm::Sha512, SEED64, sha512),
    ] {
      let otp = otp(alg, seed, 8);
      for (time, code) in times.iter().zip(codes) {
        assert_eq!(otp.generate(*time), code, "{alg:?} at {time}");
      }
    }
  }

  #[test]
  fn window_and_replay() {
    let otp = otp(Algorithm::Sha1, SEED20, 6);
    let t = 1_700_000_000u64;
    let now = otp.step(t);
    let check = Check {
      time: t,
      window: 1,
      last_step: None,
    };
    let code = otp.generate(t);
    // delta 0 is a match (the classic `if (delta)` bug rejects it).
    assert_eq!(
      otp.verify(&code, check),
      Some(Match {
        step: now,
        delta: 0
      })
    );
    let previous = otp.generate(t - 30);
    assert_eq!(otp.verify(&previous, check).unwrap().delta, -1);
    let next = otp.generate(t + 30);
    assert_eq!(otp.verify(&next, check).unwrap().delta, 1);
    assert_eq!(otp.verify(&otp.generate(t + 60), check), None);
    assert_eq!(otp.verify(&otp.generate(t - 60), check), None);
    // Window 0 accepts only the current step.
    let strict = Check { window: 0, ..check };
    assert_eq!(otp.verify(&previous, strict), None);
    // Replay: the accepted step and earlier ones are refused.
    let after = Check {
      last_step: Some(now),
      ..check
    };
    assert_eq!(otp.verify(&code, after), None);
    assert_eq!(otp.verify(&previous, after), None);
    assert_eq!(otp.verify(&next, after).unwrap().step, now + 1);
  }

  #[test]
  fn code_parsing() {
    assert_eq!(parse_code("012345", 6), Some(12345));
    assert_eq!(parse_code("012 345", 6), Some(12345));
    for bad in [
      "12345",
      "1234567",
      "12a456",
      "",
      "１２３４５６",
      "-12345",
      "+12345",
      "12345\n",
    ] {
      assert_eq!(parse_code(bad, 6), None, "{bad:?}");
    }
    assert_eq!(parse_code(&"1".repeat(1000), 6), None);
    assert_eq!(parse_code("99999999", 8), Some(99_999_999));
  }

  #[test]
  fn leading_zeros_are_kept() {
    let otp = otp(Algorithm::Sha1, SEED20, 8);
    assert_eq!(otp.generate(1111111109), "07081804");
    let check = Check {
      time: 1111111109,
      window: 0,
      last_step: None,
    };
    assert!(otp.verify("07081804", check).is_some());
    assert!(otp.verify("7081804", check).is_none());
  }

  #[test]
  fn early_steps_do_not_underflow() {
    let otp = otp(Algorithm::Sha1, SEED20, 6);
    let check = Check {
      time: 0,
      window: 10,
      last_step: None,
    };
    assert_eq!(otp.verify("755224", check).unwrap().step, 0);
    let far = Check {
      time: u64::MAX,
      window: 10,
      last_step: None,
    };
    // No overflow at the far end either: whatever the answer, no panic.
    let _ = otp.verify("000000", far);
  }
}
