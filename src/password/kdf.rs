//! The password-hashing work itself, free of JavaScript: a job is checked and built on the JS
//! thread (cheap), then `run` on a pool thread or, for the `*Sync` exports, on the caller's.

use argon2_rust::params::{Memory, TagLen};
use argon2_rust::{Algorithm, Argon2, Hasher, Params, Version};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::phc::{self, Argon2Hash, BcryptHash, StoredHash, Variant};
use crate::error::{Code, Error, Result};

/// Longest password accepted, in bytes. Longer input is almost certainly not a password, and
/// capping it keeps one request from buying an arbitrarily long BLAKE2b pass.
pub const MAX_PASSWORD_LEN: usize = 4096;
/// bcrypt reads at most 72 bytes of a password and silently ignores the rest.
pub const BCRYPT_MAX_PASSWORD_LEN: usize = 72;
/// Longest pepper accepted, in bytes.
pub const MAX_SECRET_LEN: usize = 1024;
const SALT_LEN: usize = 16;
const TAG_LEN: usize = 32;
/// Pool threads keep their argon2 working memory between hashes up to this size (KiB); it saves
/// the map/fault/unmap of a fresh arena per hash. Larger arenas are returned after each use.
const KEEP_ARENA_KIB: u32 = 64 * 1024;

/// Cost parameters for new hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
  pub memory_kib: u32,
  pub time: u32,
  pub lanes: u32,
}

/// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
pub const DEFAULT_PARAMS: HashParams = HashParams {
  memory_kib: 19_456,
  time: 2,
  lanes: 1,
};
/// Accepted ranges for new hashes. The lower ends are RFC 9106's minimums; the upper ends keep a
/// typo from asking for terabytes.
pub const MAX_HASH_MEMORY_KIB: u32 = 4 * 1024 * 1024;
pub const MAX_HASH_TIME: u32 = 1024;
pub const MAX_HASH_LANES: u32 = 255;

impl HashParams {
  pub fn validate(&self) -> Result<()> {
    let min_memory = 8 * self.lanes;
    if self.memory_kib < min_memory || self.memory_kib > MAX_HASH_MEMORY_KIB {
      return Err(Error::out_of_range(
        "options.memoryCost",
        format!("an integer >= 8 * parallelism ({min_memory}) and <= {MAX_HASH_MEMORY_KIB}"),
      ));
    }
    Ok(())
  }
}

/// The most a stored hash may ask for before `verifyPassword` refuses to run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
  pub max_memory_kib: u32,
  pub max_time: u32,
  pub max_lanes: u32,
  pub max_bcrypt_cost: u32,
}

pub const DEFAULT_BOUNDS: Bounds = Bounds {
  max_memory_kib: 256 * 1024,
  max_time: 16,
  max_lanes: 16,
  max_bcrypt_cost: 16,
};

impl Bounds {
  fn check(&self, stored: &StoredHash) -> Result<()> {
    let too_costly = |what: &str, value: u32, max: u32| {
      Error::new(
        Code::HashParams,
        format!("The stored hash asks for {what} {value}, above the allowed maximum of {max}"),
      )
    };
    match stored {
      StoredHash::Argon2(h) => {
        if h.memory_kib > self.max_memory_kib {
          return Err(too_costly("memoryCost", h.memory_kib, self.max_memory_kib));
        }
        if h.time > self.max_time {
          return Err(too_costly("timeCost", h.time, self.max_time));
        }
        if h.lanes > self.max_lanes {
          return Err(too_costly("parallelism", h.lanes, self.max_lanes));
        }
      }
      StoredHash::Bcrypt(h) => {
        if h.cost > self.max_bcrypt_cost {
          return Err(too_costly("bcrypt cost", h.cost, self.max_bcrypt_cost));
        }
      }
    }
    Ok(())
  }
}

/// Per-thread working memory, reused across hashes on a pool thread.
#[derive(Default)]
pub struct Scratch {
  hasher: Option<Hasher>,
}

impl Scratch {
  /// Whether an argon2 arena is being kept for the next hash.
  pub fn holds_memory(&self) -> bool {
    self
      .hasher
      .as_ref()
      .is_some_and(|h| h.reserved_blocks() > 0)
  }

  /// Returns the kept argon2 arena (already wiped) to the allocator.
  pub fn release(&mut self) {
    self.hasher = None;
  }

  fn argon2_into(&mut self, argon2: Argon2, input: Argon2Input<'_>, out: &mut [u8]) -> Result<()> {
    let memory_kib = input.memory_kib;
    let hasher = match self.hasher.as_mut() {
      Some(hasher) => {
        hasher.set_argon2(argon2);
        hasher
      }
      None => self.hasher.insert(argon2.hasher()),
    };
    let result =
      hasher.hash_into_with_ad(input.password, input.salt, input.secret, input.data, out);
    if memory_kib > KEEP_ARENA_KIB {
      self.release();
    }
    result.map_err(|e| Error::new(Code::Internal, format!("argon2 failed ({e:?})")))
  }
}

struct Argon2Input<'a> {
  password: &'a [u8],
  salt: &'a [u8],
  secret: &'a [u8],
  data: &'a [u8],
  memory_kib: u32,
}

/// An argon2 instance; the tag length is part of the hash's input, so it is fixed here too.
fn argon2_config(
  variant: Variant,
  version: u32,
  memory_kib: u32,
  time: u32,
  lanes: u32,
  tag_len: usize,
) -> Result<Argon2> {
  let algorithm = match variant {
    Variant::Argon2d => Algorithm::Argon2d,
    Variant::Argon2i => Algorithm::Argon2i,
    Variant::Argon2id => Algorithm::Argon2id,
  };
  let version = Version::from_u32(version)
    .ok_or_else(|| Error::new(Code::HashFormat, "unsupported argon2 version"))?;
  let params = Params::builder()
    .memory(Memory::kib(u64::from(memory_kib)))
    .passes(time)
    .lanes(lanes)
    .threads(1)
    .tag_len(TagLen::bytes(tag_len as u64))
    .build()
    .map_err(|_| Error::new(Code::HashFormat, "invalid argon2 parameters"))?;
  Ok(Argon2::new(algorithm, version, params))
}

fn check_password(password: &[u8]) -> Result<()> {
  if password.len() > MAX_PASSWORD_LEN {
    return Err(Error::out_of_range(
      "password",
      format!("at most {MAX_PASSWORD_LEN} bytes long"),
    ));
  }
  Ok(())
}

fn check_secret(secret: &[u8]) -> Result<()> {
  if secret.len() > MAX_SECRET_LEN {
    return Err(Error::out_of_range(
      "options.secret",
      format!("at most {MAX_SECRET_LEN} bytes long"),
    ));
  }
  Ok(())
}

/// A new argon2id hash of one password.
pub struct HashJob {
  password: Zeroizing<Vec<u8>>,
  secret: Zeroizing<Vec<u8>>,
  params: HashParams,
}

impl HashJob {
  pub fn new(
    password: Zeroizing<Vec<u8>>,
    params: HashParams,
    secret: Zeroizing<Vec<u8>>,
  ) -> Result<Self> {
    if password.is_empty() {
      return Err(Error::out_of_range(
        "password",
        "a non-empty string or buffer",
      ));
    }
    check_password(&password)?;
    check_secret(&secret)?;
    params.validate()?;
    Ok(HashJob {
      password,
      secret,
      params,
    })
  }

  /// Hashes with a fresh random salt and returns the PHC string.
  pub fn run(&self, scratch: &mut Scratch) -> Result<String> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt)
      .map_err(|_| Error::new(Code::Internal, "the OS random number generator failed"))?;
    let HashParams {
      memory_kib,
      time,
      lanes,
    } = self.params;
    let config = argon2_config(Variant::Argon2id, 0x13, memory_kib, time, lanes, TAG_LEN)?;
    let mut tag = Zeroizing::new([0u8; TAG_LEN]);
    let input = Argon2Input {
      password: &self.password,
      salt: &salt,
      secret: &self.secret,
      data: &[],
      memory_kib,
    };
    scratch.argon2_into(config, input, &mut tag[..])?;
    Ok(phc::encode_argon2id(
      memory_kib,
      time,
      lanes,
      &salt,
      &tag[..],
    ))
  }
}

/// A check of one password against one stored hash.
pub struct VerifyJob {
  stored: StoredHash,
  password: Zeroizing<Vec<u8>>,
  secret: Zeroizing<Vec<u8>>,
}

/// How `VerifyJob::new` treats bcrypt's 72-byte limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BcryptLongPasswords {
  /// A password over 72 bytes against a bcrypt hash is an `ERR_BCRYPT_TOO_LONG` error.
  Reject,
  /// Compare only the first 72 bytes, as other bcrypt libraries silently do.
  Truncate,
}

impl VerifyJob {
  /// Parses and bounds-checks the stored hash before any hashing memory is reserved.
  pub fn new(
    encoded: &str,
    password: Zeroizing<Vec<u8>>,
    secret: Zeroizing<Vec<u8>>,
    bounds: &Bounds,
    long_passwords: BcryptLongPasswords,
  ) -> Result<Self> {
    let stored = phc::parse(encoded)?;
    bounds.check(&stored)?;
    check_password(&password)?;
    check_secret(&secret)?;
    if let StoredHash::Bcrypt(_) = stored {
      if password.len() > BCRYPT_MAX_PASSWORD_LEN && long_passwords == BcryptLongPasswords::Reject {
        return Err(Error::new(
          Code::BcryptTooLong,
          format!(
            "The password is longer than the {BCRYPT_MAX_PASSWORD_LEN} bytes bcrypt can check; \
             pass {{ bcryptTruncate: true }} to compare only its first {BCRYPT_MAX_PASSWORD_LEN} bytes"
          ),
        ));
      }
    }
    Ok(VerifyJob {
      stored,
      password,
      secret,
    })
  }

  /// True when the password matches. An empty password never matches.
  pub fn run(&self, scratch: &mut Scratch) -> Result<bool> {
    if self.password.is_empty() {
      return Ok(false);
    }
    match &self.stored {
      StoredHash::Argon2(h) => self.argon2(h, scratch),
      StoredHash::Bcrypt(h) => self.bcrypt(h),
    }
  }

  fn argon2(&self, h: &Argon2Hash, scratch: &mut Scratch) -> Result<bool> {
    let config = argon2_config(
      h.variant,
      h.version,
      h.memory_kib,
      h.time,
      h.lanes,
      h.tag.len(),
    )?;
    let mut tag = Zeroizing::new(vec![0u8; h.tag.len()]);
    let input = Argon2Input {
      password: &self.password,
      salt: &h.salt,
      secret: &self.secret,
      data: &h.data,
      memory_kib: h.memory_kib,
    };
    scratch.argon2_into(config, input, &mut tag)?;
    Ok(bool::from(tag.ct_eq(&h.tag)))
  }

  fn bcrypt(&self, h: &BcryptHash) -> Result<bool> {
    let password = &self.password[..self.password.len().min(BCRYPT_MAX_PASSWORD_LEN)];
    bcrypt::verify(password, &h.encoded).map_err(|_| {
      Error::new(
        Code::HashFormat,
        "The stored hash is not a valid bcrypt string",
      )
    })
  }
}

/// True when `encoded` should be replaced by a new hash made with `target`: it is not argon2id
/// v19, or its memory, time, salt or tag are below `target` and rampart's defaults.
pub fn needs_rehash(encoded: &str, target: HashParams) -> Result<bool> {
  Ok(match phc::parse(encoded)? {
    StoredHash::Bcrypt(_) => true,
    StoredHash::Argon2(h) => {
      h.variant != Variant::Argon2id
        || h.version != 0x13
        || h.memory_kib < target.memory_kib
        || h.time < target.time
        || h.salt.len() < SALT_LEN
        || h.tag.len() < TAG_LEN
    }
  })
}

#[cfg(test)]
mod tests {
  use super::*;
  use hex_literal::hex;

  fn z(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(bytes.to_vec())
  }

  /// RFC 9106 section 5.3: Argon2id with secret and associated data.
  #[test]
  fn rfc9106_argon2id_vector() {
    let config = argon2_config(Variant::Argon2id, 0x13, 32, 3, 4, 32).unwrap();
    let mut tag = [0u8; 32];
    let input = Argon2Input {
      password: &[1u8; 32],
      salt: &[2u8; 16],
      secret: &[3u8; 8],
      data: &[4u8; 12],
      memory_kib: 32,
    };
    Scratch::default()
      .argon2_into(config, input, &mut tag)
      .unwrap();
    assert_eq!(
      tag,
      hex!("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
    );
  }

  /// RFC 9106 sections 5.1 and 5.2, through the same path.
  #[test]
  fn rfc9106_argon2d_and_argon2i_vectors() {
    for (variant, expected) in [
      (
        Variant::Argon2d,
        hex!("512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb"),
      ),
      (
        Variant::Argon2i,
        hex!("c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"),
      ),
    ] {
      let config = argon2_config(variant, 0x13, 32, 3, 4, 32).unwrap();
      let mut tag = [0u8; 32];
      let input = Argon2Input {
        password: &[1u8; 32],
        salt: &[2u8; 16],
        secret: &[3u8; 8],
        data: &[4u8; 12],
        memory_kib: 32,
      };
      Scratch::default()
        .argon2_into(config, input, &mut tag)
        .unwrap();
      assert_eq!(tag, expected, "{variant:?}");
    }
  }

  /// argon2-rust against RustCrypto's independent implementation, across variants, versions,
  /// lane counts, tag lengths, with and without a secret, reusing one scratch arena throughout.
  #[test]
  fn matches_rustcrypto_argon2() {
    use argon2::{Algorithm as A, Argon2 as RcArgon2, Params as P, Version as V};
    let mut scratch = Scratch::default();
    let variants = [
      (Variant::Argon2d, A::Argon2d),
      (Variant::Argon2i, A::Argon2i),
      (Variant::Argon2id, A::Argon2id),
    ];
    let mut case = 0u8;
    for (variant, rc_variant) in variants {
      for (version, rc_version) in [(0x10, V::V0x10), (0x13, V::V0x13)] {
        for (memory, time, lanes) in [(64, 1, 1), (256, 3, 2), (1024, 2, 4)] {
          case = case.wrapping_add(1);
          let password = vec![case; usize::from(case) % 17 + 1];
          let salt = [case ^ 0x5a; 16];
          let secret: &[u8] = if case.is_multiple_of(2) {
            b"pepper"
          } else {
            b""
          };
          let tag_len = 16 + usize::from(case % 3) * 8;
          let mut ours = vec![0u8; tag_len];
          let config = argon2_config(variant, version, memory, time, lanes, tag_len).unwrap();
          let input = Argon2Input {
            password: &password,
            salt: &salt,
            secret,
            data: &[],
            memory_kib: memory,
          };
          scratch.argon2_into(config, input, &mut ours).unwrap();

          let params = P::new(memory, time, lanes, Some(tag_len)).unwrap();
          let rc = if secret.is_empty() {
            RcArgon2::new(rc_variant, rc_version, params)
          } else {
            RcArgon2::new_with_secret(secret, rc_variant, rc_version, params).unwrap()
          };
          let mut theirs = vec![0u8; tag_len];
          rc.hash_password_into(&password, &salt, &mut theirs)
            .unwrap();
          assert_eq!(
            ours, theirs,
            "{variant:?} v{version} m={memory} t={time} p={lanes}"
          );
        }
      }
    }
  }

  #[test]
  fn hash_then_verify_round_trip() {
    let mut scratch = Scratch::default();
    let params = HashParams {
      memory_kib: 64,
      time: 1,
      lanes: 1,
    };
    let encoded = HashJob::new(z(b"correct horse"), params, z(b""))
      .unwrap()
      .run(&mut scratch)
      .unwrap();
    assert!(encoded.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    let check = |pw: &[u8], secret: &[u8]| {
      VerifyJob::new(
        &encoded,
        z(pw),
        z(secret),
        &DEFAULT_BOUNDS,
        BcryptLongPasswords::Reject,
      )
      .unwrap()
      .run(&mut Scratch::default())
      .unwrap()
    };
    assert!(check(b"correct horse", b""));
    assert!(!check(b"correct horsf", b""));
    assert!(!check(b"correct horse", b"pepper"));
    assert!(!check(b"", b""));
  }

  #[test]
  fn pepper_is_required_when_used() {
    let params = HashParams {
      memory_kib: 64,
      time: 1,
      lanes: 1,
    };
    let encoded = HashJob::new(z(b"pw"), params, z(b"pepper"))
      .unwrap()
      .run(&mut Scratch::default())
      .unwrap();
    let check = |secret: &[u8]| {
      VerifyJob::new(
        &encoded,
        z(b"pw"),
        z(secret),
        &DEFAULT_BOUNDS,
        BcryptLongPasswords::Reject,
      )
      .unwrap()
      .run(&mut Scratch::default())
      .unwrap()
    };
    assert!(check(b"pepper"));
    assert!(!check(b""));
  }

  #[test]
  fn rejects_bad_hash_params() {
    for (m, t, p) in [(7, 1, 1), (15, 1, 2), (MAX_HASH_MEMORY_KIB + 1, 1, 1)] {
      let params = HashParams {
        memory_kib: m,
        time: t,
        lanes: p,
      };
      let err = HashJob::new(z(b"pw"), params, z(b"")).err().unwrap();
      assert_eq!(err.code, Code::OutOfRange);
    }
    let err = HashJob::new(z(b""), DEFAULT_PARAMS, z(b"")).err().unwrap();
    assert_eq!(err.code, Code::OutOfRange);
  }

  #[test]
  fn bounds_stop_hostile_hashes_before_work() {
    let hostile = [
      "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
      "$argon2id$v=19$m=65536,t=4294967295,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
      "$argon2id$v=19$m=16777215,t=1,p=1048576$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
      "$2b$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
    ];
    for encoded in hostile {
      let err = VerifyJob::new(
        encoded,
        z(b"pw"),
        z(b""),
        &DEFAULT_BOUNDS,
        BcryptLongPasswords::Reject,
      )
      .err()
      .unwrap();
      assert_eq!(err.code, Code::HashParams, "{encoded}");
    }
  }

  #[test]
  fn bcrypt_verifies_and_guards_72_bytes() {
    let long = [b'a'; 80];
    let encoded = bcrypt::hash_with_salt(&long[..72], 4, [7u8; 16])
      .unwrap()
      .format_for_version(bcrypt::Version::TwoB);
    let job = |pw: &[u8], mode| VerifyJob::new(&encoded, z(pw), z(b""), &DEFAULT_BOUNDS, mode);
    assert!(job(&long[..72], BcryptLongPasswords::Reject)
      .unwrap()
      .run(&mut Scratch::default())
      .unwrap());
    let err = job(&long, BcryptLongPasswords::Reject).err().unwrap();
    assert_eq!(err.code, Code::BcryptTooLong);
    assert!(job(&long, BcryptLongPasswords::Truncate)
      .unwrap()
      .run(&mut Scratch::default())
      .unwrap());
    assert!(!job(b"wrong", BcryptLongPasswords::Reject)
      .unwrap()
      .run(&mut Scratch::default())
      .unwrap());
    for prefix in ["$2a$", "$2y$"] {
      let other = format!("{prefix}{}", &encoded[4..]);
      let ok = VerifyJob::new(
        &other,
        z(&long[..72]),
        z(b""),
        &DEFAULT_BOUNDS,
        BcryptLongPasswords::Reject,
      )
      .unwrap()
      .run(&mut Scratch::default())
      .unwrap();
      assert!(ok, "{prefix}");
    }
  }

  #[test]
  fn needs_rehash_rules() {
    let target = DEFAULT_PARAMS;
    let tag = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    let salt = "c29tZXNhbHRzb21lc2FsdA";
    let h = |head: &str| format!("{head}${salt}${tag}");
    assert!(!needs_rehash(&h("$argon2id$v=19$m=19456,t=2,p=1"), target).unwrap());
    assert!(!needs_rehash(&h("$argon2id$v=19$m=65536,t=3,p=4"), target).unwrap());
    assert!(needs_rehash(&h("$argon2id$v=19$m=4096,t=3,p=1"), target).unwrap());
    assert!(needs_rehash(&h("$argon2id$v=19$m=19456,t=1,p=1"), target).unwrap());
    assert!(needs_rehash(&h("$argon2i$v=19$m=19456,t=2,p=1"), target).unwrap());
    assert!(needs_rehash(&h("$argon2id$v=16$m=19456,t=2,p=1"), target).unwrap());
    assert!(needs_rehash(
      "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
      target
    )
    .unwrap());
    assert_eq!(
      needs_rehash("nope", target).unwrap_err().code,
      Code::HashFormat
    );
  }
}
