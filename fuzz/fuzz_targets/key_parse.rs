#![no_main]
//! Key parsing: PEM (PKCS#8, SPKI, PKCS#1, SEC1, with the DER inside), JWK and JWKS.
//! Properties: no panic; a parsed private key signs, and its own public half verifies that
//! signature (and refuses it with one bit changed), for every algorithm of its family.
use libfuzzer_sys::fuzz_target;
use rampart_fuzz::jwt::key::{self, Alg, Material, PublicKey, Signer, Verifier};

const ALGS: [&str; 12] = [
  "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
  "ES384", "EdDSA",
];

fn algs_of(material: &Material) -> Vec<Alg> {
  ALGS
    .iter()
    .filter_map(|n| Alg::from_name(n))
    .filter(|a| a.family() == material.family())
    .collect()
}

fn check(material: Material) {
  let algs = algs_of(&material);
  match material {
    Material::Secret(secret) => {
      for alg in algs {
        let public = Material::Secret(secret.clone());
        check_pair(Material::Secret(secret.clone()), public, alg);
      }
    }
    Material::Private(private) => {
      let public = Material::Public(private.public());
      if let Some(&alg) = algs.first() {
        check_pair(Material::Private(private), public, alg);
      }
    }
    Material::Public(public) => {
      // A public key never accepts a forged signature. For Ed25519 the classic forgery against
      // small-order keys is R = identity (01 00..00), S = 0.
      let mut forged = vec![0u8; 64];
      forged[0] = 1;
      let input = b"forged.payload";
      let is_ed = matches!(public, PublicKey::Ed(_));
      let verifier = Verifier::new(Material::Public(public), &algs);
      for &alg in &algs {
        assert!(
          !verifier.verify(alg, input, &[]),
          "empty signature accepted"
        );
        if is_ed {
          assert!(
            !verifier.verify(alg, input, &forged),
            "Ed25519 forgery (R = identity, S = 0) accepted: small-order public key"
          );
        }
      }
    }
  }
}

fn check_pair(material: Material, public: Material, alg: Alg) {
  let Ok(signer) = Signer::new(material, alg) else {
    return;
  };
  let input = b"header.payload";
  let Some(mut signature) = signer.sign(input) else {
    return;
  };
  let verifier = Verifier::new(public, &[alg]);
  assert!(
    verifier.verify(alg, input, &signature),
    "own signature refused"
  );
  if let Some(first) = signature.first_mut() {
    *first ^= 1;
    assert!(
      !verifier.verify(alg, input, &signature),
      "changed signature accepted"
    );
  }
}

fuzz_target!(|data: &[u8]| {
  let Some((&mode, rest)) = data.split_first() else {
    return;
  };
  match mode % 3 {
    0 => {
      if let Ok(material) = key::from_pem(rest) {
        check(material);
      }
    }
    1 => {
      if let Ok(jwk) = serde_json::from_slice::<serde_json::Value>(rest) {
        if let Ok((material, _, _)) = key::from_jwk(&jwk) {
          check(material);
        }
      }
    }
    _ => {
      // A JWKS: every key in "keys".
      if let Ok(serde_json::Value::Object(set)) = serde_json::from_slice(rest) {
        if let Some(serde_json::Value::Array(keys)) = set.get("keys") {
          for jwk in keys.iter().take(8) {
            let _ = key::from_jwk(jwk);
          }
        }
      }
    }
  }
});
