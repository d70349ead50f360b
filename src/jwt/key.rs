//! JWS algorithms and keys: parsed once (PEM, JWK or secret) into ring key objects, then used
//! to sign and verify. The key, never the token or a guess from a string, decides which
//! algorithms it can serve.

use p521::ecdsa::signature::{Signer as _, Verifier as _};
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use serde_json::Value;
use zeroize::Zeroizing;

use super::der;
use super::pem;

/// The algorithms rampart signs and verifies (RFC 7518 §3, RFC 8037).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
  HS256,
  HS384,
  HS512,
  RS256,
  RS384,
  RS512,
  PS256,
  PS384,
  PS512,
  ES256,
  ES384,
  /// ECDSA P-521 with SHA-512: RustCrypto's `p521` (ring has no P-521), RFC 6979 nonces.
  ES512,
  EdDSA,
  /// RFC 9864's fully specified name for EdDSA with Ed25519 (same signatures as `EdDSA`).
  Ed25519,
}

/// The kind of key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
  Hmac,
  Rsa,
  P256,
  P384,
  P521,
  Ed25519,
}

pub const ALL: [Alg; 14] = [
  Alg::HS256,
  Alg::HS384,
  Alg::HS512,
  Alg::RS256,
  Alg::RS384,
  Alg::RS512,
  Alg::PS256,
  Alg::PS384,
  Alg::PS512,
  Alg::ES256,
  Alg::ES384,
  Alg::ES512,
  Alg::EdDSA,
  Alg::Ed25519,
];

impl Alg {
  /// The algorithm named exactly `name` (case-sensitive, as RFC 7515 requires).
  pub fn from_name(name: &str) -> Option<Alg> {
    ALL.into_iter().find(|alg| alg.name() == name)
  }

  pub const fn name(self) -> &'static str {
    match self {
      Alg::HS256 => "HS256",
      Alg::HS384 => "HS384",
      Alg::HS512 => "HS512",
      Alg::RS256 => "RS256",
      Alg::RS384 => "RS384",
      Alg::RS512 => "RS512",
      Alg::PS256 => "PS256",
      Alg::PS384 => "PS384",
      Alg::PS512 => "PS512",
      Alg::ES256 => "ES256",
      Alg::ES384 => "ES384",
      Alg::ES512 => "ES512",
      Alg::EdDSA => "EdDSA",
      Alg::Ed25519 => "Ed25519",
    }
  }

  pub const fn family(self) -> Family {
    match self {
      Alg::HS256 | Alg::HS384 | Alg::HS512 => Family::Hmac,
      Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => Family::Rsa,
      Alg::ES256 => Family::P256,
      Alg::ES384 => Family::P384,
      Alg::ES512 => Family::P521,
      Alg::EdDSA | Alg::Ed25519 => Family::Ed25519,
    }
  }

  fn hmac(self) -> Option<(hmac::Algorithm, usize)> {
    match self {
      Alg::HS256 => Some((hmac::HMAC_SHA256, 32)),
      Alg::HS384 => Some((hmac::HMAC_SHA384, 48)),
      Alg::HS512 => Some((hmac::HMAC_SHA512, 64)),
      _ => None,
    }
  }

  /// The smallest HMAC secret RFC 7518 §3.2 allows: the hash output size.
  pub fn min_secret_len(self) -> usize {
    self.hmac().map_or(0, |(_, len)| len)
  }

  fn rsa_signing(self) -> Option<&'static dyn signature::RsaEncoding> {
    Some(match self {
      Alg::RS256 => &signature::RSA_PKCS1_SHA256,
      Alg::RS384 => &signature::RSA_PKCS1_SHA384,
      Alg::RS512 => &signature::RSA_PKCS1_SHA512,
      Alg::PS256 => &signature::RSA_PSS_SHA256,
      Alg::PS384 => &signature::RSA_PSS_SHA384,
      Alg::PS512 => &signature::RSA_PSS_SHA512,
      _ => return None,
    })
  }

  fn verification(self) -> Option<&'static dyn signature::VerificationAlgorithm> {
    Some(match self {
      Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
      Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
      Alg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
      Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
      Alg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
      Alg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
      Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
      Alg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
      Alg::EdDSA | Alg::Ed25519 => &signature::ED25519,
      _ => return None,
    })
  }
}

/// Smallest RSA modulus accepted (RFC 7518 §3.3), and the largest ring can sign with.
pub const MIN_RSA_BITS: usize = 2048;

/// Why key material was refused; the caller adds which option it came from. Never quotes it.
pub type KeyError = String;

/// A private key, ready to sign.
pub enum PrivateKey {
  Rsa(RsaKeyPair),
  Ec(Family, EcdsaKeyPair),
  /// P-521 (ES512); the scalar is zeroized on drop by `ecdsa`.
  P521(Box<p521::ecdsa::SigningKey>),
  Ed(Ed25519KeyPair),
}

/// A public key, ready to verify.
#[derive(Clone)]
pub enum PublicKey {
  /// PKCS#1 `RSAPublicKey` DER.
  Rsa(Vec<u8>),
  /// Uncompressed point (for P-521, checked on the curve when parsed).
  Ec(Family, Vec<u8>),
  Ed(Vec<u8>),
}

/// Key material as given: a secret, or a parsed private or public key.
pub enum Material {
  Secret(Zeroizing<Vec<u8>>),
  Private(Box<PrivateKey>),
  Public(PublicKey),
}

impl Material {
  pub fn family(&self) -> Family {
    match self {
      Material::Secret(_) => Family::Hmac,
      Material::Private(private) => match **private {
        PrivateKey::Rsa(_) => Family::Rsa,
        PrivateKey::Ec(f, _) => f,
        PrivateKey::P521(_) => Family::P521,
        PrivateKey::Ed(_) => Family::Ed25519,
      },
      Material::Public(PublicKey::Rsa(_)) => Family::Rsa,
      Material::Public(PublicKey::Ec(f, _)) => *f,
      Material::Public(PublicKey::Ed(_)) => Family::Ed25519,
    }
  }

  /// What this material is, for error messages ("an RSA public key", "an HMAC secret").
  pub fn describe(&self) -> &'static str {
    match self {
      Material::Secret(_) => "an HMAC secret",
      Material::Private(_) => match self.family() {
        Family::Rsa => "an RSA private key",
        Family::Ed25519 => "an Ed25519 private key",
        _ => "an EC private key",
      },
      Material::Public(_) => match self.family() {
        Family::Rsa => "an RSA public key",
        Family::Ed25519 => "an Ed25519 public key",
        _ => "an EC public key",
      },
    }
  }
}

fn family_name(family: Family) -> &'static str {
  match family {
    Family::Hmac => "HMAC",
    Family::Rsa => "RSA",
    Family::P256 => "EC P-256",
    Family::P384 => "EC P-384",
    Family::P521 => "EC P-521",
    Family::Ed25519 => "Ed25519",
  }
}

fn ec_signing(family: Family) -> &'static signature::EcdsaSigningAlgorithm {
  if family == Family::P384 {
    &signature::ECDSA_P384_SHA384_FIXED_SIGNING
  } else {
    &signature::ECDSA_P256_SHA256_FIXED_SIGNING
  }
}

fn ec_point_len(family: Family) -> usize {
  match family {
    Family::P384 => 97,
    Family::P521 => 133,
    _ => 65,
  }
}

fn curve_from_oid(oid: &[u8]) -> Result<Family, KeyError> {
  match oid {
    der::OID_P256 => Ok(Family::P256),
    der::OID_P384 => Ok(Family::P384),
    der::OID_P521 => Ok(Family::P521),
    _ => Err("uses an EC curve other than P-256, P-384 and P-521".into()),
  }
}

fn check_rsa_bits(pkcs1_public: &[u8]) -> Result<(), KeyError> {
  let bits = der::rsa_modulus_bits(pkcs1_public).ok_or("is not a valid RSA key")?;
  if bits < MIN_RSA_BITS {
    return Err(format!(
      "is a {bits}-bit RSA key; at least {MIN_RSA_BITS} bits are required"
    ));
  }
  if bits > 8192 {
    return Err("is an RSA key over 8192 bits".into());
  }
  Ok(())
}

fn rsa_private(key: RsaKeyPair) -> Result<Material, KeyError> {
  check_rsa_bits(key.public().as_ref())?;
  Ok(Material::Private(Box::new(PrivateKey::Rsa(key))))
}

fn rejected(what: &str) -> impl Fn(ring::error::KeyRejected) -> KeyError + '_ {
  move |e| match e.to_string().as_str() {
    "TooSmall" => {
      format!("is an RSA key under {MIN_RSA_BITS} bits; at least {MIN_RSA_BITS} bits are required")
    }
    "TooLarge" => "is an RSA key over 4096 bits, the largest ring signs with".to_owned(),
    _ => format!("is not a valid {what} ({e})"),
  }
}

fn ec_public(family: Family, point: &[u8]) -> Result<Material, KeyError> {
  if point.len() != ec_point_len(family) || point.first() != Some(&4) {
    return Err("is not an uncompressed EC public key".into());
  }
  // ring checks P-256/P-384 points at each verification; p521 checks here, once.
  if family == Family::P521 && p521::ecdsa::VerifyingKey::from_sec1_bytes(point).is_err() {
    return Err("is not a point on the P-521 curve".into());
  }
  Ok(Material::Public(PublicKey::Ec(family, point.to_vec())))
}

/// A P-521 private key from its scalar; `public`, when given, must be the matching point.
fn p521_private(scalar: &[u8], public: Option<&[u8]>) -> Result<Material, KeyError> {
  if scalar.len() != 66 {
    return Err("has a P-521 private scalar that is not 66 bytes".into());
  }
  let key = p521::ecdsa::SigningKey::from_slice(scalar)
    .map_err(|_| "is not a valid P-521 private key (the scalar is 0 or not below the order)")?;
  if let Some(public) = public {
    let derived = p521::ecdsa::VerifyingKey::from(&key).to_sec1_point(false);
    if derived.as_bytes() != public {
      return Err("is a P-521 private key whose public key does not match it".into());
    }
  }
  Ok(Material::Private(Box::new(PrivateKey::P521(Box::new(key)))))
}

/// The y coordinates (little-endian, sign bit clear) of the eight Ed25519 points of small order:
/// 0 (order 4), 1 (the identity), p-1 (order 2) and the two order-8 values (y and p-y).
const ED25519_SMALL_ORDER_Y: [[u8; 32]; 5] = {
  const P_MINUS_1: [u8; 32] = {
    let mut b = [0xff; 32];
    b[0] = 0xec;
    b[31] = 0x7f;
    b
  };
  const ONE: [u8; 32] = {
    let mut b = [0; 32];
    b[0] = 1;
    b
  };
  [
    [0; 32],
    ONE,
    P_MINUS_1,
    [
      0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
      0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
      0xfc, 0x05,
    ],
    [
      0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
      0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
      0x03, 0x7a,
    ],
  ]
};

/// An Ed25519 public key, refused unless its encoding is canonical (y < p = 2^255 - 19) and it is
/// not one of the eight small-order points. With a small-order key (the identity, say), the
/// signature R = identity, S = 0 verifies ANY message, so such a key would let anyone forge
/// tokens. Keys of mixed order (a prime-order point plus a small-order one) cannot be forged this
/// way and are not detected here (that needs a scalar multiplication).
pub fn ed25519_public(x: &[u8]) -> Result<Material, KeyError> {
  let bytes: [u8; 32] = x
    .try_into()
    .map_err(|_| "has an Ed25519 public key of the wrong length".to_owned())?;
  let mut y = bytes;
  y[31] &= 0x7f;
  // y >= p: the last byte is 0x7f, bytes 1..31 all 0xff and the first >= 0xed.
  if y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed {
    return Err("is an Ed25519 public key with a non-canonical encoding (y >= 2^255 - 19)".into());
  }
  if ED25519_SMALL_ORDER_Y.contains(&y) {
    return Err(
      "is an Ed25519 public key of small order, with which anyone can forge signatures".into(),
    );
  }
  Ok(Material::Public(PublicKey::Ed(bytes.to_vec())))
}

/// Parses a PEM key file: PKCS#8, SPKI, PKCS#1 (RSA) or SEC1 (EC).
pub fn from_pem(bytes: &[u8]) -> Result<Material, KeyError> {
  let text = std::str::from_utf8(bytes).map_err(|_| "is not valid PEM text".to_owned())?;
  let block = pem::decode(text).map_err(|problem| match problem {
    pem::Problem::Encrypted => {
      "is an encrypted PEM key; decrypt it first (crypto.createPrivateKey \
       with the passphrase, then .export({ format: 'pem', type: 'pkcs8' }))"
        .to_owned()
    }
    pem::Problem::Malformed => "is not a well-formed PEM key".to_owned(),
  })?;
  let der: &[u8] = &block.der;
  match block.label.as_str() {
    "PRIVATE KEY" => from_pkcs8(der),
    "PUBLIC KEY" => from_spki(der),
    "RSA PRIVATE KEY" => rsa_private(RsaKeyPair::from_der(der).map_err(rejected("RSA key"))?),
    "RSA PUBLIC KEY" => {
      check_rsa_bits(der)?;
      Ok(Material::Public(PublicKey::Rsa(der.to_vec())))
    }
    "EC PRIVATE KEY" => {
      let (private, curve, public) = der::parse_sec1(der)
        .ok_or("is not a valid SEC1 EC key (it must include the public key)")?;
      let family = curve_from_oid(curve)?;
      if family == Family::P521 {
        return p521_private(private, Some(public));
      }
      let pair = EcdsaKeyPair::from_private_key_and_public_key(
        ec_signing(family),
        private,
        public,
        &SystemRandom::new(),
      )
      .map_err(rejected("EC key"))?;
      Ok(Material::Private(Box::new(PrivateKey::Ec(family, pair))))
    }
    "CERTIFICATE" => Err(
      "is an X.509 certificate; pass its public key \
       (new crypto.X509Certificate(pem).publicKey.export({ format: 'pem', type: 'spki' }))"
        .into(),
    ),
    _ => Err("is a PEM file of a kind rampart does not read".into()),
  }
}

fn from_pkcs8(der: &[u8]) -> Result<Material, KeyError> {
  let (algorithm, parameter) = der::pkcs8_algorithm(der).ok_or("is not a valid PKCS#8 key")?;
  match algorithm {
    der::OID_RSA => rsa_private(RsaKeyPair::from_pkcs8(der).map_err(rejected("RSA key"))?),
    der::OID_EC => {
      let family = curve_from_oid(parameter.ok_or("is an EC key without a named curve")?)?;
      if family == Family::P521 {
        let (private, public) = der::pkcs8_ec_private(der).ok_or("is not a valid PKCS#8 EC key")?;
        return p521_private(private, public);
      }
      let pair = EcdsaKeyPair::from_pkcs8(ec_signing(family), der, &SystemRandom::new())
        .map_err(rejected("EC key (it must include the public key)"))?;
      Ok(Material::Private(Box::new(PrivateKey::Ec(family, pair))))
    }
    der::OID_ED25519 => {
      let pair =
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected("Ed25519 key"))?;
      Ok(Material::Private(Box::new(PrivateKey::Ed(pair))))
    }
    _ => Err(
      "is a key type rampart does not support (RSA, EC P-256/P-384/P-521 and Ed25519 are)".into(),
    ),
  }
}

fn from_spki(der: &[u8]) -> Result<Material, KeyError> {
  let spki = der::parse_spki(der).ok_or("is not a valid SubjectPublicKeyInfo key")?;
  match spki.algorithm {
    der::OID_RSA => {
      check_rsa_bits(spki.key)?;
      Ok(Material::Public(PublicKey::Rsa(spki.key.to_vec())))
    }
    der::OID_EC => {
      let family = curve_from_oid(spki.parameter.ok_or("is an EC key without a named curve")?)?;
      ec_public(family, spki.key)
    }
    der::OID_ED25519 => ed25519_public(spki.key),
    _ => Err(
      "is a key type rampart does not support (RSA, EC P-256/P-384/P-521 and Ed25519 are)".into(),
    ),
  }
}

/// A member of a JWK as bytes (strict base64url).
fn jwk_bytes(
  jwk: &serde_json::Map<String, Value>,
  name: &str,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
  match jwk.get(name) {
    Some(Value::String(text)) => crate::b64::decode_url(text)
      .map(Zeroizing::new)
      .ok_or_else(|| format!("has a \"{name}\" member that is not canonical base64url")),
    Some(_) => Err(format!("has a \"{name}\" member that is not a string")),
    None => Err(format!("has no \"{name}\" member")),
  }
}

/// Parses a JWK (RFC 7517/7518/8037): `oct`, `RSA`, `EC` (P-256, P-384) or `OKP` (Ed25519).
/// Returns the material with the JWK's `kid` and `alg`, if any.
pub fn from_jwk(jwk: &Value) -> Result<(Material, Option<String>, Option<Alg>), KeyError> {
  let Value::Object(jwk) = jwk else {
    return Err("is not a JWK object".into());
  };
  let text = |name: &str| match jwk.get(name) {
    None => Ok(None),
    Some(Value::String(s)) => Ok(Some(s.as_str())),
    Some(_) => Err(format!("has a \"{name}\" member that is not a string")),
  };
  let kid = text("kid")?.map(str::to_owned);
  let alg = match text("alg")? {
    None => None,
    Some(name) => Some(
      Alg::from_name(name).ok_or_else(|| "names an \"alg\" rampart does not support".to_owned())?,
    ),
  };
  if let Some(usage) = text("use")? {
    if usage != "sig" {
      return Err("is not a signing key (\"use\" is not \"sig\")".into());
    }
  }
  let has_private = jwk.contains_key("d");
  let material = match text("kty")? {
    Some("oct") => Material::Secret(jwk_bytes(jwk, "k")?),
    Some("RSA") => {
      let n = jwk_bytes(jwk, "n")?;
      let e = jwk_bytes(jwk, "e")?;
      check_rsa_bits(&der::sequence_of_uints(&[&n, &e]))?;
      if has_private {
        let parts = ["d", "p", "q", "dp", "dq", "qi"].map(|name| jwk_bytes(jwk, name));
        let mut values: Vec<Zeroizing<Vec<u8>>> = Vec::with_capacity(6);
        for part in parts {
          values
            .push(part.map_err(|e| format!("{e} (RSA private JWKs need d, p, q, dp, dq and qi)"))?);
        }
        let mut fields: Vec<&[u8]> = vec![&[0], &n, &e];
        fields.extend(values.iter().map(|v| v.as_slice()));
        let pkcs1 = Zeroizing::new(der::sequence_of_uints(&fields));
        rsa_private(RsaKeyPair::from_der(&pkcs1).map_err(rejected("RSA JWK"))?)?
      } else {
        let pkcs1 = der::sequence_of_uints(&[&n, &e]);
        check_rsa_bits(&pkcs1)?;
        Material::Public(PublicKey::Rsa(pkcs1))
      }
    }
    Some("EC") => {
      let family = match text("crv")? {
        Some("P-256") => Family::P256,
        Some("P-384") => Family::P384,
        Some("P-521") => Family::P521,
        _ => return Err("uses an EC curve other than P-256, P-384 and P-521".into()),
      };
      let size = (ec_point_len(family) - 1) / 2;
      let x = jwk_bytes(jwk, "x")?;
      let y = jwk_bytes(jwk, "y")?;
      if x.len() != size || y.len() != size {
        return Err("has EC coordinates of the wrong length".into());
      }
      let mut point = vec![4u8];
      point.extend_from_slice(&x);
      point.extend_from_slice(&y);
      if has_private && family == Family::P521 {
        p521_private(&jwk_bytes(jwk, "d")?, Some(&point))?
      } else if has_private {
        let d = jwk_bytes(jwk, "d")?;
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
          ec_signing(family),
          &d,
          &point,
          &SystemRandom::new(),
        )
        .map_err(rejected("EC JWK"))?;
        Material::Private(Box::new(PrivateKey::Ec(family, pair)))
      } else {
        ec_public(family, &point)?
      }
    }
    Some("OKP") => {
      if text("crv")? != Some("Ed25519") {
        return Err("uses an OKP curve other than Ed25519".into());
      }
      let x = jwk_bytes(jwk, "x")?;
      if x.len() != 32 {
        return Err("has an Ed25519 public key of the wrong length".into());
      }
      if has_private {
        let d = jwk_bytes(jwk, "d")?;
        let pair =
          Ed25519KeyPair::from_seed_and_public_key(&d, &x).map_err(rejected("Ed25519 JWK"))?;
        Material::Private(Box::new(PrivateKey::Ed(pair)))
      } else {
        ed25519_public(&x)?
      }
    }
    _ => return Err("has a \"kty\" other than oct, RSA, EC and OKP".into()),
  };
  if let Some(alg) = alg {
    if alg.family() != material.family() {
      return Err(format!(
        "has \"alg\" {} but is {}",
        alg.name(),
        material.describe()
      ));
    }
  }
  Ok((material, kid, alg))
}

impl PrivateKey {
  pub fn public(&self) -> PublicKey {
    match self {
      PrivateKey::Rsa(pair) => PublicKey::Rsa(pair.public().as_ref().to_vec()),
      PrivateKey::Ec(family, pair) => PublicKey::Ec(*family, pair.public_key().as_ref().to_vec()),
      PrivateKey::P521(key) => PublicKey::Ec(
        Family::P521,
        p521::ecdsa::VerifyingKey::from(&**key)
          .to_sec1_point(false)
          .as_bytes()
          .to_vec(),
      ),
      PrivateKey::Ed(pair) => PublicKey::Ed(pair.public_key().as_ref().to_vec()),
    }
  }
}

/// Checks that `material` can serve `alg`, with the reason when it cannot.
pub fn check_pair(material: &Material, alg: Alg) -> Result<(), KeyError> {
  if material.family() != alg.family() {
    return Err(format!(
      "is {}, which cannot be used with {} (it needs {} key)",
      material.describe(),
      alg.name(),
      match alg.family() {
        Family::Hmac => "an HMAC secret, not a".to_owned(),
        other => format!("an {}", family_name(other)),
      }
    ));
  }
  if let Material::Secret(secret) = material {
    if secret.len() < alg.min_secret_len() {
      return Err(format!(
        "is a {}-byte secret; {} needs at least {} bytes (RFC 7518 §3.2). Generate one with \
         crypto.randomBytes({})",
        secret.len(),
        alg.name(),
        alg.min_secret_len(),
        alg.min_secret_len()
      ));
    }
  }
  Ok(())
}

/// A key that signs with one algorithm.
pub enum Signer {
  Hmac(hmac::Key),
  Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding),
  Ec(EcdsaKeyPair),
  P521(Box<p521::ecdsa::SigningKey>),
  Ed(Ed25519KeyPair),
}

impl Signer {
  /// Builds the signer; `check_pair` must have passed.
  pub fn new(material: Material, alg: Alg) -> Result<Signer, KeyError> {
    Ok(match (material, alg.hmac(), alg.rsa_signing()) {
      (Material::Secret(secret), Some((algorithm, _)), _) => {
        Signer::Hmac(hmac::Key::new(algorithm, &secret))
      }
      (Material::Private(private), _, encoding) => match (*private, encoding) {
        (PrivateKey::Rsa(pair), Some(encoding)) => Signer::Rsa(pair, encoding),
        (PrivateKey::Ec(_, pair), _) => Signer::Ec(pair),
        (PrivateKey::P521(key), _) => Signer::P521(key),
        (PrivateKey::Ed(pair), _) => Signer::Ed(pair),
        (PrivateKey::Rsa(_), None) => return Err("cannot be used with this algorithm".into()),
      },
      (Material::Public(_), _, _) => {
        return Err("is a public key; signing needs the private key".into())
      }
      _ => return Err("cannot be used with this algorithm".into()),
    })
  }

  /// The signature over `input`. RSA and P-256 signing fail only if the system random generator
  /// does; P-521 (deterministic nonces, RFC 6979) only on an internal error of the crate; HMAC
  /// and Ed25519 never.
  pub fn sign(&self, input: &[u8]) -> Option<Vec<u8>> {
    match self {
      Signer::Hmac(key) => Some(hmac::sign(key, input).as_ref().to_vec()),
      Signer::Rsa(pair, encoding) => {
        let mut out = vec![0u8; pair.public().modulus_len()];
        pair
          .sign(*encoding, &SystemRandom::new(), input, &mut out)
          .ok()?;
        Some(out)
      }
      Signer::Ec(pair) => pair
        .sign(&SystemRandom::new(), input)
        .ok()
        .map(|s| s.as_ref().to_vec()),
      Signer::P521(key) => key
        .try_sign(input)
        .ok()
        .map(|s: p521::ecdsa::Signature| s.to_bytes().to_vec()),
      Signer::Ed(pair) => Some(pair.sign(input).as_ref().to_vec()),
    }
  }
}

/// A key that verifies: HMAC keys for each allowed HS algorithm, or a public key.
pub enum Verifier {
  Hmac(Vec<(Alg, hmac::Key)>),
  Public(PublicKey),
}

impl Verifier {
  /// Builds the verifier for the `algs` this material can serve (all checked by `check_pair`).
  pub fn new(material: Material, algs: &[Alg]) -> Verifier {
    match material {
      Material::Secret(secret) => Verifier::Hmac(
        algs
          .iter()
          .filter_map(|&alg| {
            alg
              .hmac()
              .map(|(algorithm, _)| (alg, hmac::Key::new(algorithm, &secret)))
          })
          .collect(),
      ),
      Material::Private(private) => Verifier::Public(private.public()),
      Material::Public(public) => Verifier::Public(public),
    }
  }

  /// Whether `signature` is valid for `input` under `alg` (constant-time for HMAC).
  pub fn verify(&self, alg: Alg, input: &[u8], signature: &[u8]) -> bool {
    match self {
      Verifier::Hmac(keys) => keys
        .iter()
        .find(|(a, _)| *a == alg)
        .is_some_and(|(_, key)| hmac::verify(key, input, signature).is_ok()),
      Verifier::Public(public) => {
        let (bytes, family) = match public {
          PublicKey::Rsa(der) => (der, Family::Rsa),
          PublicKey::Ec(family, point) => (point, *family),
          PublicKey::Ed(key) => (key, Family::Ed25519),
        };
        if alg == Alg::ES512 {
          return family == Family::P521 && verify_p521(bytes, input, signature);
        }
        match alg.verification() {
          Some(algorithm) if alg.family() == family => UnparsedPublicKey::new(algorithm, bytes)
            .verify(input, signature)
            .is_ok(),
          _ => false,
        }
      }
    }
  }
}

/// ES512: `signature` is r || s (66 bytes each, RFC 7518 §3.4) over SHA-512 of `input`.
fn verify_p521(point: &[u8], input: &[u8], signature: &[u8]) -> bool {
  let Ok(key) = p521::ecdsa::VerifyingKey::from_sec1_bytes(point) else {
    return false;
  };
  let Ok(signature) = p521::ecdsa::Signature::from_slice(signature) else {
    return false;
  };
  key.verify(input, &signature).is_ok()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn names_round_trip_and_are_case_sensitive() {
    for alg in ALL {
      assert_eq!(Alg::from_name(alg.name()), Some(alg));
    }
    for bad in ["none", "None", "hs256", "es512", "ES521", "", "HS256 "] {
      assert_eq!(Alg::from_name(bad), None);
    }
  }

  #[test]
  fn secrets_must_be_as_long_as_the_hash() {
    let short = Material::Secret(Zeroizing::new(vec![7; 47]));
    assert!(check_pair(&short, Alg::HS256).is_ok());
    assert!(check_pair(&short, Alg::HS384)
      .unwrap_err()
      .contains("47-byte"));
    assert!(check_pair(&short, Alg::RS256)
      .unwrap_err()
      .contains("HMAC secret"));
  }

  #[test]
  fn jwk_alg_must_match_the_key() {
    let jwk = serde_json::json!({ "kty": "oct", "k": "AAAA", "alg": "RS256" });
    assert!(from_jwk(&jwk).is_err());
    let jwk = serde_json::json!({ "kty": "oct", "k": "AA==" });
    assert!(from_jwk(&jwk).err().unwrap().contains("base64url"));
    let jwk = serde_json::json!({ "kty": "oct", "k": "AAAA", "use": "enc" });
    assert!(from_jwk(&jwk).is_err());
  }

  /// Wycheproof ecdsa_secp521r1_sha512_p1363_test.json, every case: valid signatures verify,
  /// invalid ones (modified r or s, out-of-range values, wrong sizes, edge-case keys) do not.
  #[test]
  fn wycheproof_es512() {
    use wycheproof::ecdsa::{TestName, TestSet};
    use wycheproof::TestResult;
    let set = TestSet::load(TestName::EcdsaSecp521r1Sha512P1363).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in set.test_groups {
      let material =
        ec_public(Family::P521, &group.key.key).expect("Wycheproof keys are on the curve");
      let verifier = Verifier::new(material, &[Alg::ES512]);
      for test in group.tests {
        let ok = verifier.verify(Alg::ES512, &test.msg, &test.sig);
        match test.result {
          TestResult::Valid => {
            assert!(ok, "tc {} must verify", test.tc_id);
            valid += 1;
          }
          TestResult::Invalid => {
            assert!(!ok, "tc {} must be refused", test.tc_id);
            invalid += 1;
          }
          TestResult::Acceptable => {}
        }
        // The same signature never verifies as another algorithm or family.
        assert!(!verifier.verify(Alg::ES384, &test.msg, &test.sig));
      }
    }
    assert!(
      valid > 200 && invalid > 50,
      "{valid} valid, {invalid} invalid cases"
    );
  }

  /// RFC 6979 A.2.7 (P-521, SHA-512, message "sample"): nonces are deterministic, so the signer
  /// reproduces the published r || s byte for byte.
  #[test]
  fn es512_reproduces_rfc_6979() {
    let jwk = serde_json::json!({
      "kty": "EC", "crv": "P-521",
      "x": "AYlFUNB4WTLgDqojtpTyE_jDEh-G3JegTlpxZ9tOW803ESPUbkXba11TcKfyD7YzFV04_6FtK9dh3KxHS5ovUCOk",
      "y": "AEkxAclizU0v3feCKF5kWEE5wvkbR_h_-CNU1mMPdGoooNsldBtbNKgoAIsirMI_kk-q-9TTP4HqZpVt_qor_fz1",
      "d": "APrQbapiujsl0vtAEz2nVyBd5n9bsAGP7oyG4baMfnXKqJbrMvH0fHCFWDam0W_MFGb22PvsZ9uJ7AwIsOmWuDU4"
    });
    let r = "00C328FAFCBD79DD77850370C46325D987CB525569FB63C5D3BC53950E6D4C5F174E25A1EE9017B5D450606ADD152B534931D7D4E8455CC91F9B15BF05EC36E377FA";
    let s = "00617CCE7CF5064806C467F678D3B4080D6F1CC50AF26CA209417308281B68AF282623EAA63E5B5C0723D8B8C37FF0777B1A20F8CCB1DCCC43997F1EE0E44DA4A67A";
    let hex = |h: &str| -> Vec<u8> {
      (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
    };
    let mut expected = hex(r);
    expected.extend(hex(s));
    let (material, _, _) = from_jwk(&jwk).unwrap();
    let signer = Signer::new(material, Alg::ES512).unwrap();
    assert_eq!(signer.sign(b"sample").unwrap(), expected);
  }

  /// RFC 7515 A.4's P-521 key: it signs (deterministic nonces: the same input, the same bytes) and verifies;
  /// a changed coordinate, a point off the curve, a short scalar and a public key that does not
  /// match the private one are refused when the key is parsed.
  #[test]
  fn p521_keys_are_checked_when_parsed() {
    let fixture: Value =
      serde_json::from_str(include_str!("../../__test__/fixtures/jwt-vectors.json")).unwrap();
    let v = fixture["vectors"]
      .as_array()
      .unwrap()
      .iter()
      .find(|v| v["alg"] == "ES512")
      .unwrap();
    let jwk = v["jwk"].as_object().unwrap().clone();
    let (material, _, _) = from_jwk(&Value::Object(jwk.clone())).unwrap();
    assert_eq!(material.family(), Family::P521);
    check_pair(&material, Alg::ES512).unwrap();
    assert!(check_pair(&material, Alg::ES384).is_err());
    let signer = Signer::new(material, Alg::ES512).unwrap();
    let first = signer.sign(b"input").unwrap();
    assert_eq!(first.len(), 132);
    assert_eq!(first, signer.sign(b"input").unwrap(), "RFC 6979 nonces");
    assert_ne!(first, signer.sign(b"input2").unwrap());
    let (public, _, _) = from_jwk(&Value::Object(jwk.clone())).unwrap();
    let verifier = Verifier::new(public, &[Alg::ES512]);
    assert!(verifier.verify(Alg::ES512, b"input", &first));
    assert!(!verifier.verify(Alg::ES512, b"inpuT", &first));
    assert!(!verifier.verify(Alg::ES512, b"input", &first[..131]));

    let b64 = |bytes: &[u8]| {
      let mut out = String::new();
      crate::b64::encode_url_into(bytes, &mut out);
      Value::from(out)
    };
    let with = |name: &str, value: Value| {
      let mut changed = jwk.clone();
      changed.insert(name.into(), value);
      from_jwk(&Value::Object(changed)).err().unwrap()
    };
    let mut y = crate::b64::decode_url(jwk["y"].as_str().unwrap()).unwrap();
    y[65] ^= 1;
    let y = b64(&y);
    assert!(with("y", y.clone()).contains("does not match"));
    let mut public_only = jwk.clone();
    public_only.remove("d");
    public_only.insert("y".into(), y);
    let off_curve = from_jwk(&Value::Object(public_only)).err().unwrap();
    assert!(
      off_curve.contains("not a point on the P-521 curve"),
      "{off_curve}"
    );
    assert!(with("d", Value::from("AAAA")).contains("66 bytes"));
    let zero = b64(&[0u8; 66]);
    assert!(with("d", zero).contains("not a valid P-521 private key"));
    assert!(with("crv", Value::from("P-512")).contains("P-521"));
  }

  #[test]
  fn small_order_and_non_canonical_ed25519_keys_are_refused() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    // R = identity, S = 0 verifies any message under the identity key (ring checks neither).
    let mut forged = identity.to_vec();
    forged.extend_from_slice(&[0; 32]);
    assert!(UnparsedPublicKey::new(&signature::ED25519, identity)
      .verify(b"any message", &forged)
      .is_ok());
    for y in ED25519_SMALL_ORDER_Y {
      for sign in [0u8, 0x80] {
        let mut key = y;
        key[31] |= sign;
        assert!(ed25519_public(&key).err().unwrap().contains("small order"));
      }
    }
    // p, p + 1 (encodings of 0 and 1) and p + 2 (y = 2) are not canonical.
    for low in [0xed, 0xee, 0xef, 0xff] {
      let mut key = [0xff; 32];
      key[0] = low;
      key[31] = 0x7f;
      assert!(ed25519_public(&key)
        .err()
        .unwrap()
        .contains("non-canonical"));
    }
    assert!(ed25519_public(&[0; 31]).is_err());
    // An ordinary key (RFC 8032 §7.1 test 1) is accepted.
    let good = [
      0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07,
      0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07,
      0x51, 0x1a,
    ];
    assert!(ed25519_public(&good).is_ok());
    let jwk = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    assert!(from_jwk(&jwk).err().unwrap().contains("small order"));
  }
}
