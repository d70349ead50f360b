// Interoperability both ways with jose and jsonwebtoken, for every algorithm each supports:
// their tokens verify here with the same claims, and ours verify there. jsonwebtoken 9 has no
// EdDSA, so that pair is jose-only.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { generateKeyPairSync } from './helpers/keys.mjs'
import { test } from 'node:test'

import * as jose from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { JwtSigner, JwtVerifier } from 'rampart'

const ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
const ISS = 'https://issuer.example'
const AUD = 'api://app'

function pair(alg) {
  if (alg.startsWith('HS')) {
    const secret = randomBytes(64)
    return { signKey: secret, verifyKey: secret }
  }
  const kind = alg.startsWith('ES') ? 'ec' : alg === 'EdDSA' ? 'ed25519' : 'rsa'
  const options = kind === 'ec' ? { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg] } : kind === 'rsa' ? { modulusLength: 2048 } : {}
  const { privateKey, publicKey } = generateKeyPairSync(kind, options)
  return { signKey: privateKey, verifyKey: publicKey }
}

for (const alg of ALGS) {
  const { signKey, verifyKey } = pair(alg)
  const pem = (key) => (key.export ? key.export({ format: 'pem', type: key.type === 'private' ? 'pkcs8' : 'spki' }) : key)
  const signer = new JwtSigner({ algorithm: alg, key: pem(signKey), issuer: ISS, audience: AUD, keyId: 'k1' })
  const verifier = new JwtVerifier({ algorithms: [alg], key: pem(verifyKey), issuer: ISS, audience: AUD })
  const claims = { sub: 'user-7', scope: 'read write', n: 1.5, nested: { list: [1, 'two', null] } }

  test(`${alg}: rampart -> jose`, async () => {
    const token = signer.sign(claims)
    const { payload, protectedHeader } = await jose.jwtVerify(token, verifyKey, { algorithms: [alg], issuer: ISS, audience: AUD })
    assert.deepEqual(protectedHeader, { alg, kid: 'k1', typ: 'JWT' })
    assert.deepEqual({ ...payload, iat: 0, exp: 0 }, { ...claims, iss: ISS, aud: AUD, iat: 0, exp: 0 })
    assert.equal(payload.exp - payload.iat, 900)
  })

  test(`${alg}: jose -> rampart`, async () => {
    const token = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg, typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .setIssuer(ISS)
      .setAudience([AUD, 'other'])
      .sign(signKey)
    const payload = verifier.verify(token)
    assert.deepEqual(payload, (await jose.jwtVerify(token, verifyKey, { audience: AUD })).payload)
  })

  if (alg === 'EdDSA') continue

  test(`${alg}: rampart -> jsonwebtoken`, () => {
    const token = signer.sign(claims)
    const payload = jsonwebtoken.verify(token, verifyKey, { algorithms: [alg], issuer: ISS, audience: AUD })
    assert.equal(payload.sub, 'user-7')
    assert.deepEqual(payload.nested, claims.nested)
  })

  test(`${alg}: jsonwebtoken -> rampart`, () => {
    const token = jsonwebtoken.sign(claims, signKey, { algorithm: alg, issuer: ISS, audience: AUD, expiresIn: 300, keyid: 'k9' })
    assert.deepEqual(verifier.verify(token), jsonwebtoken.verify(token, verifyKey, { algorithms: [alg] }))
  })
}

test('a token from another key fails in both directions', async () => {
  const mine = pair('ES256')
  const theirs = pair('ES256')
  const token = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('5m').sign(theirs.signKey)
  const verifier = new JwtVerifier({ algorithms: ['ES256'], key: mine.verifyKey })
  assert.throws(() => verifier.verify(token), { code: 'ERR_JWT_SIGNATURE_INVALID' })
  const ours = new JwtSigner({ algorithm: 'ES256', key: mine.signKey }).sign({})
  await assert.rejects(jose.jwtVerify(ours, theirs.verifyKey), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' })
})
