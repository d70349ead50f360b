// JwtSigner / JwtVerifier through the package entry point: RFC known-answer vectors, every
// algorithm and key format, the claims policy, and decodeJwtUnverified.
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, createSecretKey, randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto'
import { generateKeyPairSync } from './helpers/keys.mjs'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { JwtSigner, JwtVerifier, decodeJwtUnverified } from 'rampart'

import { code, hs256 } from './jwt-helpers.mjs'

const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/jwt-vectors.json', import.meta.url), 'utf8'))
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi']
const publicJwk = (jwk) => Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.includes(k)))
const RFC_TIME = 1300819300 // before the RFC 7515 tokens' exp (1300819380)


for (const v of vectors) {
  test(`known answer: ${v.name}`, () => {
    const key = v.jwk.kty === 'oct' ? v.jwk : publicJwk(v.jwk)
    const verifier = new JwtVerifier({ algorithms: [v.alg], key, requireExp: v.jwt })
    if (v.jwt) {
      assert.deepEqual(verifier.verify(v.token, { currentTime: RFC_TIME }), {
        iss: 'joe',
        exp: 1300819380,
        'http://example.com/is_root': true,
      })
      assert.throws(() => verifier.verify(v.token, { currentTime: 1300819380 }), code('ERR_JWT_EXPIRED', 'exp'))
    } else {
      // A JWS over plain text: the signature checks out, then the payload is refused as not a JWT.
      assert.throws(() => verifier.verify(v.token), code('ERR_JWT_MALFORMED'))
    }
    const [h, p, s] = v.token.split('.')
    const flipped = `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`
    assert.throws(() => verifier.verify(flipped, { currentTime: RFC_TIME }), code('ERR_JWT_SIGNATURE_INVALID'))
  })
}

test('ES512 interoperates with Node\'s OpenSSL both ways (P1363 r || s signatures), and a P-521 key serves ES512 only', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' })
  const token = new JwtSigner({ algorithm: 'ES512', key: privateKey }).sign({ sub: 'x' })
  const [h, p, s] = token.split('.')
  assert.equal(Buffer.from(s, 'base64url').length, 132)
  assert.ok(cryptoVerify('sha512', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')))
  const header = Buffer.from('{"alg":"ES512","typ":"JWT"}').toString('base64url')
  const payload = Buffer.from('{"sub":"node"}').toString('base64url')
  const signature = cryptoSign('sha512', Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')
  const verifier = new JwtVerifier({ algorithms: ['ES512'], key: publicKey, requireExp: false })
  assert.equal(verifier.verify(`${header}.${payload}.${signature}`).sub, 'node')
  const der = cryptoSign('sha512', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url')
  assert.throws(() => verifier.verify(`${header}.${payload}.${der}`), code('ERR_JWT_SIGNATURE_INVALID'))
  // Published through jwks() (a JWK with crv P-521) and verified from that set.
  const published = new JwtSigner({ algorithm: 'ES512', key: privateKey, keyId: 'p521' })
  const { keys } = published.jwks()
  assert.deepEqual([keys[0].kty, keys[0].crv, keys[0].alg, 'd' in keys[0]], ['EC', 'P-521', 'ES512', false])
  assert.equal(new JwtVerifier({ algorithms: ['ES512'], key: { keys } }).verify(published.sign({ sub: 'set' })).sub, 'set')
  assert.throws(() => new JwtVerifier({ algorithms: ['ES384'], key: publicKey }), /needs an EC P-384 key/)
  assert.throws(() => new JwtSigner({ algorithm: 'ES512', key: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey }), /EC P-521/)
})

function keyPair(alg) {
  switch (alg.slice(0, 2)) {
    case 'HS':
      return { sign: randomBytes(64), verify: null }
    case 'RS':
    case 'PS':
      return generateKeyPairSync('rsa', { modulusLength: 2048 })
    case 'ES':
      return generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg] })
    default:
      return generateKeyPairSync('ed25519')
  }
}

const ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
const pairs = Object.fromEntries(ALGS.map((alg) => [alg, keyPair(alg)]))

/** Every form a key can be given in, for signing and for verifying. */
function keyForms(alg) {
  const pair = pairs[alg]
  if (alg.startsWith('HS')) {
    const secret = pair.sign
    const jwk = { kty: 'oct', k: secret.toString('base64url') }
    return { sign: [secret, jwk, createSecretKey(secret)], verify: [secret, new Uint8Array(secret), jwk, createSecretKey(secret)] }
  }
  const sign = [
    pair.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    Buffer.from(pair.privateKey.export({ format: 'pem', type: 'pkcs8' })),
    pair.privateKey.export({ format: 'jwk' }),
    pair.privateKey,
  ]
  const verify = [
    pair.publicKey.export({ format: 'pem', type: 'spki' }),
    pair.publicKey.export({ format: 'jwk' }),
    pair.publicKey,
    // A private key verifies too (its public half is used).
    pair.privateKey.export({ format: 'pem', type: 'pkcs8' }),
  ]
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    sign.push(pair.privateKey.export({ format: 'pem', type: 'pkcs1' }))
    verify.push(pair.publicKey.export({ format: 'pem', type: 'pkcs1' }))
  }
  if (alg.startsWith('ES')) sign.push(pair.privateKey.export({ format: 'pem', type: 'sec1' }))
  return { sign, verify }
}

for (const alg of ALGS) {
  test(`${alg}: every key form signs and verifies`, () => {
    const { sign, verify } = keyForms(alg)
    for (const [i, signKey] of sign.entries()) {
      const signer = new JwtSigner({ algorithm: alg, key: signKey, keyId: 'k1', issuer: 'api', audience: 'app' })
      assert.equal(signer.algorithm, alg)
      const token = signer.sign({ sub: '42', role: 'admin' })
      const header = decodeJwtUnverified(token).header
      assert.deepEqual(header, { alg, kid: 'k1', typ: 'JWT' })
      for (const [j, verifyKey] of verify.entries()) {
        const verifier = new JwtVerifier({ algorithms: [alg], key: verifyKey, issuer: 'api', audience: 'app' })
        const payload = verifier.verify(token)
        assert.equal(payload.sub, '42', `sign form ${i}, verify form ${j}`)
        assert.equal(payload.role, 'admin')
      }
    }
  })
}

test('sign fills in iat, exp, nbf, iss, aud and sub in seconds', () => {
  const secret = randomBytes(32)
  const signer = new JwtSigner({ algorithm: 'HS256', key: secret, issuer: 'api', audience: ['app', 'admin'], subject: 's', expiresIn: 60, notBefore: 5 })
  const token = signer.sign({ role: 'x' }, { currentTime: 1_700_000_000.9 })
  assert.deepEqual(decodeJwtUnverified(token).payload, {
    role: 'x',
    iat: 1_700_000_000,
    exp: 1_700_000_060,
    nbf: 1_700_000_005,
    iss: 'api',
    aud: ['app', 'admin'],
    sub: 's',
  })
  // Default lifetime: 15 minutes.
  const plain = new JwtSigner({ algorithm: 'HS256', key: secret })
  const { iat, exp } = decodeJwtUnverified(plain.sign({})).payload
  assert.equal(exp - iat, 900)
  assert.ok(Math.abs(iat - Date.now() / 1000) < 5)
  // A payload exp wins over expiresIn.
  assert.equal(decodeJwtUnverified(plain.sign({ exp: iat + 30 })).payload.exp, iat + 30)
})

test('sign refuses milliseconds, conflicting claims and non-objects', () => {
  const signer = new JwtSigner({ algorithm: 'HS256', key: randomBytes(32), issuer: 'api' })
  assert.throws(() => signer.sign({ iat: Date.now() }), code('ERR_OUT_OF_RANGE'))
  assert.throws(() => signer.sign({ exp: Date.now() + 60_000 }), /milliseconds/)
  assert.throws(() => signer.sign({ iss: 'someone-else' }), code('ERR_INVALID_ARG_VALUE'))
  assert.throws(() => signer.sign({ exp: '2030-01-01' }), code('ERR_INVALID_ARG_VALUE'))
  for (const bad of [null, undefined, 'str', 42, [1], () => {}]) assert.throws(() => signer.sign(bad), code('ERR_INVALID_ARG_TYPE'))
  const cyclic = {}
  cyclic.self = cyclic
  assert.throws(() => signer.sign(cyclic), TypeError)
})

test('verify: clock tolerance, maxAge, required claims, subject, typ', () => {
  const secret = randomBytes(32)
  const now = 1_700_000_000
  const signer = new JwtSigner({ algorithm: 'HS256', key: secret, expiresIn: 60 })
  const token = signer.sign({ sub: 'u1', scope: 'read' }, { currentTime: now })
  const base = { algorithms: ['HS256'], key: secret }
  assert.throws(() => new JwtVerifier(base).verify(token, { currentTime: now + 60 }), code('ERR_JWT_EXPIRED', 'exp'))
  assert.equal(new JwtVerifier({ ...base, clockTolerance: 5 }).verify(token, { currentTime: now + 64 }).sub, 'u1')
  assert.throws(() => new JwtVerifier(base).verify(token, { currentTime: now - 1 }), code('ERR_JWT_CLAIM_INVALID', 'iat'))
  assert.throws(() => new JwtVerifier({ ...base, maxAge: 10 }).verify(token, { currentTime: now + 11 }), code('ERR_JWT_EXPIRED', 'iat'))
  assert.equal(new JwtVerifier({ ...base, maxAge: 10 }).verify(token, { currentTime: now + 10 }).sub, 'u1')
  assert.throws(() => new JwtVerifier({ ...base, requiredClaims: ['tenant'] }).verify(token, { currentTime: now }), code('ERR_JWT_CLAIM_INVALID', 'tenant'))
  assert.equal(new JwtVerifier({ ...base, requiredClaims: ['scope'] }).verify(token, { currentTime: now }).scope, 'read')
  assert.throws(() => new JwtVerifier({ ...base, subject: 'u2' }).verify(token, { currentTime: now }), code('ERR_JWT_CLAIM_INVALID', 'sub'))
  assert.equal(new JwtVerifier({ ...base, typ: 'application/JWT' }).verify(token, { currentTime: now }).sub, 'u1')
  assert.throws(() => new JwtVerifier({ ...base, typ: 'at+jwt' }).verify(token, { currentTime: now }), code('ERR_JWT_CLAIM_INVALID', 'typ'))
  const at = new JwtSigner({ algorithm: 'HS256', key: secret, typ: 'at+jwt' }).sign({})
  assert.deepEqual(new JwtVerifier({ ...base, typ: 'at+jwt' }).verify(at).iat > 0, true)
  // Issuer and audience lists match exactly one of their values.
  const multi = new JwtSigner({ algorithm: 'HS256', key: secret, issuer: 'b', audience: ['x', 'y'] }).sign({})
  assert.ok(new JwtVerifier({ ...base, issuer: ['a', 'b'], audience: 'y' }).verify(multi))
  assert.throws(() => new JwtVerifier({ ...base, issuer: ['a', 'b'], audience: 'z' }).verify(multi), code('ERR_JWT_CLAIM_INVALID', 'aud'))
  // requireExp: false is the explicit way to accept tokens without exp.
  const noExp = hs256(secret, { alg: 'HS256' }, { sub: '1' })
  assert.throws(() => new JwtVerifier(base).verify(noExp), code('ERR_JWT_CLAIM_INVALID', 'exp'))
  assert.equal(new JwtVerifier({ ...base, requireExp: false }).verify(noExp).sub, '1')
})

test('JWKS: the key is chosen by kid, and a kid naming no key is ERR_JWT_KEY_NOT_FOUND', () => {
  const a = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const b = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwks = {
    keys: [
      { ...a.publicKey.export({ format: 'jwk' }), kid: 'a', use: 'sig', alg: 'ES256' },
      { ...b.publicKey.export({ format: 'jwk' }), kid: 'b' },
      { kty: 'EC', crv: 'P-521', kid: 'invalid', x: 'AA', y: 'AA' },
      { ...b.publicKey.export({ format: 'jwk' }), kid: 'enc', use: 'enc' },
    ],
  }
  const verifier = new JwtVerifier({ algorithms: ['ES256', 'RS256'], key: jwks })
  const ta = new JwtSigner({ algorithm: 'ES256', key: a.privateKey, keyId: 'a' }).sign({ sub: 'a' })
  const tb = new JwtSigner({ algorithm: 'RS256', key: b.privateKey, keyId: 'b' }).sign({ sub: 'b' })
  assert.equal(verifier.verify(ta).sub, 'a')
  assert.equal(verifier.verify(tb).sub, 'b')
  const wrongKid = new JwtSigner({ algorithm: 'ES256', key: a.privateKey, keyId: 'zzz' }).sign({})
  assert.throws(() => verifier.verify(wrongKid), code('ERR_JWT_KEY_NOT_FOUND'))
  // Signed by a but labelled b: b's key is RSA, so the ES256 token cannot use it.
  const mislabelled = new JwtSigner({ algorithm: 'ES256', key: a.privateKey, keyId: 'b' }).sign({})
  assert.throws(() => verifier.verify(mislabelled), code('ERR_JWT_ALG_NOT_ALLOWED'))
  // Without kid, the one key that suits the alg is used.
  const noKid = new JwtSigner({ algorithm: 'ES256', key: a.privateKey }).sign({ sub: 'n' })
  assert.equal(verifier.verify(noKid).sub, 'n')
  assert.deepEqual(verifier.algorithms, ['ES256', 'RS256'])
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: jwks }), code('ERR_INVALID_ARG_VALUE'))
})

test('decodeJwtUnverified reads header and payload but checks no signature', () => {
  const token = new JwtSigner({ algorithm: 'HS256', key: randomBytes(32), keyId: 'k' }).sign({ sub: '1' })
  const [h, p] = token.split('.')
  const forged = `${h}.${p}.AAAA`
  assert.equal(decodeJwtUnverified(forged).payload.sub, '1')
  assert.equal(decodeJwtUnverified(forged).header.kid, 'k')
  assert.throws(() => decodeJwtUnverified('a.b'), code('ERR_JWT_MALFORMED'))
  assert.throws(() => decodeJwtUnverified(`${h}.${Buffer.from('[1]').toString('base64url')}.x`), code('ERR_JWT_MALFORMED'))
})

test('the native verify/sign (without the JS fast path) behave the same', async () => {
  const native = (await import('../index.js')).default
  const secret = randomBytes(32)
  const signer = new native.JwtSigner({ algorithm: 'HS256', key: secret })
  const token = signer.sign({ sub: '1', n: [1, { a: 'b' }] })
  const verifier = new native.JwtVerifier({ algorithms: ['HS256'], key: secret })
  assert.deepEqual(verifier.verify(token), new JwtVerifier({ algorithms: ['HS256'], key: secret }).verify(token))
  assert.throws(() => verifier.verify(token, { currentTime: 1e12 }), code('ERR_OUT_OF_RANGE'))
  assert.throws(() => signer.sign([1]), code('ERR_INVALID_ARG_TYPE'))
})

test('KeyObject keys are used as given, and key material never appears in errors', () => {
  const secret = createSecretKey(randomBytes(16))
  assert.throws(() => new JwtSigner({ algorithm: 'HS256', key: secret }), (e) => e.code === 'ERR_INVALID_ARG_VALUE' && /16-byte/.test(e.message))
  const pem = createPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }))
  assert.throws(() => new JwtSigner({ algorithm: 'ES384', key: pem }), code('ERR_INVALID_ARG_VALUE'))
  assert.throws(() => new JwtSigner({ algorithm: 'ES256', key: createPublicKey(pem) }), /private key/)
})

test('RS* tokens signed through Node (the package entry point) equal the addon-signed ones byte for byte', async () => {
  const native = (await import('../index.js')).default
  const { privateKey } = pairs.RS256
  for (const alg of ['RS256', 'RS384', 'RS512']) {
    const options = { algorithm: alg, key: privateKey.export({ format: 'pem', type: 'pkcs1' }), issuer: 'api' }
    const at = { currentTime: 1_700_000_000 }
    assert.equal(new JwtSigner(options).sign({ sub: '1' }, at), new native.JwtSigner(options).sign({ sub: '1' }, at))
  }
  // PSS is randomised: check each path's token verifies with the other library.
  for (const alg of ['PS256', 'PS384', 'PS512']) {
    const verifier = new JwtVerifier({ algorithms: [alg], key: pairs.RS256.publicKey })
    const options = { algorithm: alg, key: privateKey.export({ format: 'jwk' }) }
    assert.equal(verifier.verify(new JwtSigner(options).sign({ sub: 'js' })).sub, 'js')
    assert.equal(verifier.verify(new native.JwtSigner(options).sign({ sub: 'rs' })).sub, 'rs')
  }
})
