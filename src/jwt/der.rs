//! The little DER that key files need: reading SubjectPublicKeyInfo, PKCS#8 and SEC1 structures
//! far enough to know the key type and find the key bytes, and writing PKCS#1 RSA keys from JWK
//! components. Every read is bounds-checked and returns `None` on malformed input.

pub const SEQUENCE: u8 = 0x30;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const OID: u8 = 0x06;

pub const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
pub const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
pub const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
pub const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
pub const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// A cursor over DER bytes.
pub struct Reader<'a> {
  data: &'a [u8],
}

impl<'a> Reader<'a> {
  pub fn new(data: &'a [u8]) -> Self {
    Reader { data }
  }

  #[cfg(test)]
  pub fn is_empty(&self) -> bool {
    self.data.is_empty()
  }

  pub fn peek_tag(&self) -> Option<u8> {
    self.data.first().copied()
  }

  /// Reads one element with `tag` and returns its contents.
  pub fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
    let (&found, rest) = self.data.split_first()?;
    if found != tag {
      return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
      (usize::from(first), rest)
    } else {
      let count = usize::from(first & 0x7f);
      if count == 0 || count > 3 || rest.len() < count {
        return None;
      }
      let len = rest[..count]
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
      (len, &rest[count..])
    };
    if rest.len() < len {
      return None;
    }
    let (contents, rest) = rest.split_at(len);
    self.data = rest;
    Some(contents)
  }

  /// Reads a SEQUENCE and returns a reader over its contents.
  pub fn sequence(&mut self) -> Option<Reader<'a>> {
    self.read(SEQUENCE).map(Reader::new)
  }
}

/// The algorithm and key bytes of a SubjectPublicKeyInfo.
pub struct Spki<'a> {
  pub algorithm: &'a [u8],
  pub parameter: Option<&'a [u8]>,
  pub key: &'a [u8],
}

/// An `AlgorithmIdentifier`: the algorithm OID and, when it is an OID, its parameter (the curve).
fn algorithm_identifier<'a>(outer: &mut Reader<'a>) -> Option<(&'a [u8], Option<&'a [u8]>)> {
  let mut alg = outer.sequence()?;
  let algorithm = alg.read(OID)?;
  let parameter = if alg.peek_tag() == Some(OID) {
    alg.read(OID)
  } else {
    None
  };
  Some((algorithm, parameter))
}

pub fn parse_spki(der: &[u8]) -> Option<Spki<'_>> {
  let mut outer = Reader::new(der).sequence()?;
  let (algorithm, parameter) = algorithm_identifier(&mut outer)?;
  let bits = outer.read(BIT_STRING)?;
  let (&unused, key) = bits.split_first()?;
  if unused != 0 {
    return None;
  }
  Some(Spki {
    algorithm,
    parameter,
    key,
  })
}

/// The algorithm OID (and curve, for EC) of a PKCS#8 PrivateKeyInfo.
pub fn pkcs8_algorithm(der: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
  let mut outer = Reader::new(der).sequence()?;
  outer.read(INTEGER)?;
  algorithm_identifier(&mut outer)
}

/// SEC1 `ECPrivateKey`: (private scalar, curve OID, public point).
pub fn parse_sec1(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
  let mut outer = Reader::new(der).sequence()?;
  outer.read(INTEGER)?;
  let private = outer.read(OCTET_STRING)?;
  let curve = Reader::new(outer.read(0xa0)?).read(OID)?;
  let bits = Reader::new(outer.read(0xa1)?).read(BIT_STRING)?;
  let (&unused, public) = bits.split_first()?;
  (unused == 0).then_some((private, curve, public))
}

/// The SEC1 `ECPrivateKey` inside a PKCS#8 PrivateKeyInfo: (private scalar, public point if
/// present). Its curve is in the PrivateKeyInfo's AlgorithmIdentifier (`pkcs8_algorithm`).
pub fn pkcs8_ec_private(der: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
  let mut outer = Reader::new(der).sequence()?;
  outer.read(INTEGER)?;
  outer.sequence()?;
  let mut inner = Reader::new(outer.read(OCTET_STRING)?).sequence()?;
  inner.read(INTEGER)?;
  let private = inner.read(OCTET_STRING)?;
  if inner.peek_tag() == Some(0xa0) {
    inner.read(0xa0)?;
  }
  if inner.peek_tag() != Some(0xa1) {
    return Some((private, None));
  }
  let bits = Reader::new(inner.read(0xa1)?).read(BIT_STRING)?;
  let (&unused, public) = bits.split_first()?;
  (unused == 0).then_some((private, Some(public)))
}

/// Size in bits of the modulus of a PKCS#1 `RSAPublicKey`.
pub fn rsa_modulus_bits(public_key: &[u8]) -> Option<usize> {
  let mut seq = Reader::new(public_key).sequence()?;
  let n = seq.read(INTEGER)?;
  let n = &n[n.iter().position(|&b| b != 0)?..];
  Some(n.len() * 8 - n[0].leading_zeros() as usize)
}

fn write_len(out: &mut Vec<u8>, len: usize) {
  if len < 0x80 {
    out.push(len as u8);
  } else {
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
  }
}

fn write(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
  out.push(tag);
  write_len(out, contents.len());
  out.extend_from_slice(contents);
}

/// An unsigned big-endian INTEGER (minimal, with a leading zero when the top bit is set).
fn write_uint(out: &mut Vec<u8>, value: &[u8]) {
  let start = value.iter().position(|&b| b != 0).unwrap_or(value.len());
  let value = &value[start..];
  let mut contents = Vec::with_capacity(value.len() + 1);
  if value.first().is_none_or(|&b| b & 0x80 != 0) {
    contents.push(0);
  }
  contents.extend_from_slice(value);
  write(out, INTEGER, &contents);
}

/// A SEQUENCE of unsigned INTEGERs: PKCS#1 `RSAPublicKey` (n, e) or, with a leading version 0,
/// `RSAPrivateKey` (0, n, e, d, p, q, dp, dq, qi).
pub fn sequence_of_uints(values: &[&[u8]]) -> Vec<u8> {
  let mut body = Vec::new();
  for value in values {
    write_uint(&mut body, value);
  }
  let mut out = Vec::with_capacity(body.len() + 4);
  write(&mut out, SEQUENCE, &body);
  out
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn round_trips_integers_and_lengths() {
    let big = vec![0xffu8; 300];
    let der = sequence_of_uints(&[&[1, 0, 1], &big, &[0, 0, 5], &[]]);
    let mut seq = Reader::new(&der).sequence().unwrap();
    assert_eq!(seq.read(INTEGER).unwrap(), &[1, 0, 1]);
    let n = seq.read(INTEGER).unwrap();
    assert_eq!((n.len(), n[0]), (301, 0));
    assert_eq!(seq.read(INTEGER).unwrap(), &[5]);
    assert_eq!(seq.read(INTEGER).unwrap(), &[0]);
    assert!(seq.is_empty());
    assert_eq!(
      rsa_modulus_bits(&sequence_of_uints(&[&big, &[1, 0, 1]])),
      Some(2400)
    );
  }

  #[test]
  fn rejects_truncated_and_oversized_elements() {
    for bad in [
      &[][..],
      &[0x30],
      &[0x30, 0x05, 1, 2],
      &[0x30, 0x84, 0, 0, 0, 1, 0],
      &[0x30, 0x80],
    ] {
      assert!(Reader::new(bad).sequence().is_none(), "{bad:?}");
    }
    assert!(parse_spki(&[0x30, 0x03, 0x30, 0x01, 0x06]).is_none());
  }
}
