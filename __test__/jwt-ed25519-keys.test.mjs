// Issue 13: Ed25519 public keys of small order, or with a non-canonical encoding, must be refused
// at import. With the identity point as the public key, the signature R = identity, S = 0
// verifies ANY payload: the test builds exactly that forged token.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { generateKeyPairSync } from './helpers/keys.mjs'
import { JwtSigner, JwtVerifier } from '../js/index.js'
import { b64, code, FUTURE } from './jwt-helpers.mjs'

const hex = (h) => Buffer.from(h, 'hex')
const identity = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])
const P = 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'
// Encodings of the eight small-order points (both x signs) and non-canonical ones (y >= p).
const SMALL_ORDER = [
  Buffer.alloc(32),
  identity,
  hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
  hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'),
  hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'),
].flatMap((y) => [y, Buffer.concat([y.subarray(0, 31), Buffer.from([y[31] | 0x80])])])
const NON_CANONICAL = [P, 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'].map(hex)

const jwk = (x) => ({ kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') })
const spkiPem = (x) => {
  const der = Buffer.concat([hex('302a300506032b6570032100'), x])
  return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`
}

/** A token for any payload: signature R = identity point, S = 0. */
const forged = (payload) => {
  const input = `${b64({ alg: 'EdDSA', typ: 'JWT' })}.${b64(payload)}`
  return `${input}.${Buffer.concat([identity, Buffer.alloc(32)]).toString('base64url')}`
}
const payload = { sub: 'admin', exp: FUTURE() }

test('an identity-point Ed25519 key is refused from a JWK, a JWKS, SPKI PEM and a KeyObject, so the forged token cannot verify', () => {
  const inputs = [jwk(identity), { keys: [{ ...jwk(identity), kid: 'a' }] }, spkiPem(identity), Buffer.from(spkiPem(identity))]
  let keyObject
  try {
    keyObject = createPublicKey({ key: jwk(identity), format: 'jwk' })
  } catch {
    keyObject = undefined // OpenSSL may refuse it itself; then there is nothing to pass
  }
  if (keyObject) inputs.push(keyObject)
  for (const key of inputs) {
    let verifier
    assert.throws(() => {
      verifier = new JwtVerifier({ algorithms: ['EdDSA'], key })
    }, code('ERR_INVALID_ARG_VALUE'))
    // Only reached when the key was accepted: the forged token must then at least fail.
    if (verifier) assert.throws(() => verifier.verify(forged(payload)))
  }
})

test('every small-order and non-canonical Ed25519 public key is refused with a coded error', () => {
  for (const x of [...SMALL_ORDER, ...NON_CANONICAL]) {
    for (const key of [jwk(x), spkiPem(x)]) {
      assert.throws(() => new JwtVerifier({ algorithms: ['EdDSA'], key }), (error) => {
        assert.equal(error.code, 'ERR_INVALID_ARG_VALUE')
        assert.match(error.message, /small order|non-canonical/)
        assert.ok(!error.message.includes(x.toString('base64url')), 'the key is not quoted')
        return true
      }, x.toString('hex'))
    }
  }
})

test('ordinary Ed25519 keys still verify, and a forged R = identity, S = 0 token fails with them', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const token = new JwtSigner({ algorithm: 'EdDSA', key: privateKey }).sign({ sub: 'u' })
  for (const key of [publicKey, publicKey.export({ format: 'jwk' }), publicKey.export({ format: 'pem', type: 'spki' })]) {
    const verifier = new JwtVerifier({ algorithms: ['EdDSA'], key })
    assert.equal(verifier.verify(token).sub, 'u')
    assert.throws(() => verifier.verify(forged(payload)), code('ERR_JWT_SIGNATURE_INVALID'))
  }
})

test('the RFC 9864 algorithm name Ed25519: signed and verified, only when allowed, interoperable with jose', async () => {
  const jose = await import('jose')
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const token = new JwtSigner({ algorithm: 'Ed25519', key: privateKey }).sign({ sub: 'fs' })
  assert.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url')).alg, 'Ed25519')
  assert.equal(new JwtVerifier({ algorithms: ['Ed25519'], key: publicKey }).verify(token).sub, 'fs')
  assert.throws(() => new JwtVerifier({ algorithms: ['EdDSA'], key: publicKey }).verify(token), code('ERR_JWT_ALG_NOT_ALLOWED'))
  const { payload } = await jose.jwtVerify(token, publicKey, { algorithms: ['Ed25519'] })
  assert.equal(payload.sub, 'fs')
  const fromJose = await new jose.SignJWT({ sub: 'j' }).setProtectedHeader({ alg: 'Ed25519' }).setExpirationTime('5m').sign(privateKey)
  assert.equal(new JwtVerifier({ algorithms: ['Ed25519', 'EdDSA'], key: publicKey.export({ format: 'jwk' }) }).verify(fromJose).sub, 'j')
})
