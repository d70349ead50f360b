//! The password options as plain Rust values, and the rules that turn them into hashing
//! parameters, cost bounds and pool settings. The binding only reads fields (types and ranges,
//! `args.rs`); defaults and the checks that relate fields live here, tested by `cargo test`.

use super::kdf::{self, BcryptLongPasswords, Bounds, HashParams};
use super::phc;
use crate::error::Result;

/// Ranges the binding enforces while reading (`args::opt_u32`), one place for each bound.
pub const MEMORY_COST: (u32, u32) = (8, kdf::MAX_HASH_MEMORY_KIB);
pub const TIME_COST: (u32, u32) = (1, kdf::MAX_HASH_TIME);
pub const PARALLELISM: (u32, u32) = (1, kdf::MAX_HASH_LANES);
pub const MAX_MEMORY_COST: (u32, u32) = (8, u32::MAX);
pub const MAX_TIME_COST: (u32, u32) = (1, u32::MAX);
pub const MAX_PARALLELISM: (u32, u32) = (1, phc::MAX_LANES);
pub const MAX_BCRYPT_COST: (u32, u32) = (4, 31);
pub const POOL_THREADS: (u32, u32) = (1, 256);
pub const POOL_MAX_QUEUE: (u32, u32) = (0, 1_000_000);

/// `hashPassword` / `needsRehash` options (absent fields take rampart's defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashOptions {
  pub memory_cost: Option<u32>,
  pub time_cost: Option<u32>,
  pub parallelism: Option<u32>,
}

impl HashOptions {
  /// The argon2id parameters, with defaults filled in and `memoryCost >= 8 * parallelism`.
  pub fn params(&self) -> Result<HashParams> {
    let d = kdf::DEFAULT_PARAMS;
    let params = HashParams {
      memory_kib: self.memory_cost.unwrap_or(d.memory_kib),
      time: self.time_cost.unwrap_or(d.time),
      lanes: self.parallelism.unwrap_or(d.lanes),
    };
    params.validate()?;
    Ok(params)
  }
}

/// `verifyPassword` options other than the secret and the signal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
  pub max_memory_cost: Option<u32>,
  pub max_time_cost: Option<u32>,
  pub max_parallelism: Option<u32>,
  pub max_bcrypt_cost: Option<u32>,
  pub bcrypt_truncate: Option<bool>,
}

impl VerifyOptions {
  pub fn bounds(&self) -> Bounds {
    let d = kdf::DEFAULT_BOUNDS;
    Bounds {
      max_memory_kib: self.max_memory_cost.unwrap_or(d.max_memory_kib),
      max_time: self.max_time_cost.unwrap_or(d.max_time),
      max_lanes: self.max_parallelism.unwrap_or(d.max_lanes),
      max_bcrypt_cost: self.max_bcrypt_cost.unwrap_or(d.max_bcrypt_cost),
    }
  }

  /// Fails closed: only an explicit `bcryptTruncate: true` compares the first 72 bytes.
  pub fn long_passwords(&self) -> BcryptLongPasswords {
    match self.bcrypt_truncate {
      Some(true) => BcryptLongPasswords::Truncate,
      _ => BcryptLongPasswords::Reject,
    }
  }
}

/// `configurePasswordPool` options: `None` keeps the current setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolOptions {
  pub threads: Option<u32>,
  pub max_queue: Option<u32>,
}

impl PoolOptions {
  pub fn threads(&self) -> Option<usize> {
    self.threads.map(|n| n as usize)
  }

  pub fn max_queue(&self) -> Option<usize> {
    self.max_queue.map(|n| n as usize)
  }
}

/// Clamps a pool counter into a JS-friendly `u32`.
pub fn clamp_u32(n: usize) -> u32 {
  u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::error::Code;

  #[test]
  fn hash_defaults_are_owasp() {
    assert_eq!(
      HashOptions::default().params().unwrap(),
      kdf::DEFAULT_PARAMS
    );
  }

  #[test]
  fn hash_fields_override_defaults_one_by_one() {
    let p = HashOptions {
      memory_cost: Some(65_536),
      ..Default::default()
    }
    .params()
    .unwrap();
    assert_eq!((p.memory_kib, p.time, p.lanes), (65_536, 2, 1));
    let p = HashOptions {
      time_cost: Some(3),
      parallelism: Some(4),
      ..Default::default()
    }
    .params()
    .unwrap();
    assert_eq!((p.memory_kib, p.time, p.lanes), (19_456, 3, 4));
  }

  #[test]
  fn memory_must_cover_every_lane() {
    let e = HashOptions {
      memory_cost: Some(8),
      parallelism: Some(2),
      ..Default::default()
    }
    .params()
    .unwrap_err();
    assert_eq!(e.code, Code::OutOfRange);
    assert!(e.message.contains("options.memoryCost"));
    // The edge itself is fine.
    assert!(HashOptions {
      memory_cost: Some(16),
      parallelism: Some(2),
      ..Default::default()
    }
    .params()
    .is_ok());
  }

  #[test]
  fn read_ranges_agree_with_the_core_limits() {
    // The largest values the reader lets through still validate.
    let p = HashOptions {
      memory_cost: Some(MEMORY_COST.1),
      time_cost: Some(TIME_COST.1),
      parallelism: Some(PARALLELISM.1),
    };
    assert!(p.params().is_ok());
    assert_eq!(MEMORY_COST.0, 8);
  }

  #[test]
  fn verify_defaults_and_overrides() {
    assert_eq!(VerifyOptions::default().bounds(), kdf::DEFAULT_BOUNDS);
    let o = VerifyOptions {
      max_memory_cost: Some(1 << 20),
      max_bcrypt_cost: Some(12),
      ..Default::default()
    };
    let b = o.bounds();
    assert_eq!(b.max_memory_kib, 1 << 20);
    assert_eq!(b.max_bcrypt_cost, 12);
    assert_eq!(b.max_time, kdf::DEFAULT_BOUNDS.max_time);
  }

  #[test]
  fn bcrypt_truncation_only_when_asked() {
    let mode = |t| {
      VerifyOptions {
        bcrypt_truncate: t,
        ..Default::default()
      }
      .long_passwords()
    };
    assert_eq!(mode(None), BcryptLongPasswords::Reject);
    assert_eq!(mode(Some(false)), BcryptLongPasswords::Reject);
    assert_eq!(mode(Some(true)), BcryptLongPasswords::Truncate);
  }

  #[test]
  fn pool_options_and_clamp() {
    let o = PoolOptions {
      threads: Some(3),
      max_queue: None,
    };
    assert_eq!((o.threads(), o.max_queue()), (Some(3), None));
    assert_eq!(clamp_u32(7), 7);
    assert_eq!(clamp_u32(usize::MAX), u32::MAX);
  }
}
