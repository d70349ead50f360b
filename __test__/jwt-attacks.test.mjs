// The attack table: each known way to get a forged, stale or confusing token accepted, as its own
// named test. Tokens are built byte by byte with node:crypto so they are exactly what an
// attacker would send, and every refusal must carry its stable code.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { generateKeyPairSync } from './helpers/keys.mjs'
import { test } from 'node:test'

import { JwtSigner, JwtVerifier } from 'rampart'

import { FUTURE, b64, code, hs256, rs256 } from './jwt-helpers.mjs'

const SECRET = randomBytes(32)
const hsVerifier = new JwtVerifier({ algorithms: ['HS256'], key: SECRET, issuer: 'api', audience: 'app' })
const good = () => ({ sub: '1', iss: 'api', aud: 'app', exp: FUTURE() })
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const rsaPublicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' })
const rsVerifier = new JwtVerifier({ algorithms: ['RS256'], key: rsaPublicPem })

test('baseline: the hand-built token verifies (so every refusal below is the attack, not the harness)', () => {
  assert.equal(hsVerifier.verify(hs256(SECRET, { alg: 'HS256' }, good())).sub, '1')
  assert.equal(rsVerifier.verify(rs256(rsa.privateKey, { alg: 'RS256' }, { exp: FUTURE() })).exp > 0, true)
})

test('alg none, in every casing, with and without a signature', () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    for (const signature of ['', 'AAAA']) {
      const token = `${b64({ alg, typ: 'JWT' })}.${b64(good())}.${signature}`
      assert.throws(() => hsVerifier.verify(token), code('ERR_JWT_ALG_NOT_ALLOWED'))
      assert.throws(() => rsVerifier.verify(token), code('ERR_JWT_ALG_NOT_ALLOWED'))
    }
  }
  assert.throws(() => new JwtVerifier({ algorithms: ['none'], key: SECRET }), code('ERR_INVALID_ARG_VALUE'))
  assert.throws(() => new JwtSigner({ algorithm: 'none', key: SECRET }), code('ERR_INVALID_ARG_VALUE'))
})

test('HS256 signed with the RSA public key PEM (algorithm confusion)', () => {
  const forged = hs256(rsaPublicPem, { alg: 'HS256' }, { exp: FUTURE(), admin: true })
  assert.throws(() => rsVerifier.verify(forged), code('ERR_JWT_ALG_NOT_ALLOWED'))
  // The PEM can never become an HMAC secret, whatever is prepended (fast-jwt CVE-2026-34950 and
  // GHSA-ww5h-9m49-7xx4) and whichever PEM form is used (CVE-2023-48223).
  for (const key of [
    rsaPublicPem,
    `  \n${rsaPublicPem}`,
    `\u200b${rsaPublicPem}`,
    `# comment\n${rsaPublicPem}`,
    rsa.publicKey.export({ format: 'pem', type: 'pkcs1' }),
    Buffer.from(rsaPublicPem),
  ]) {
    assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key }), code('ERR_INVALID_ARG_VALUE'))
    assert.throws(() => new JwtVerifier({ algorithms: ['RS256', 'HS256'], key }), /cannot be used with HS256/)
  }
})

test('HS256 signed with the EC public key PEM or a public JWK as text', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ecPem = ec.publicKey.export({ format: 'pem', type: 'spki' })
  const esVerifier = new JwtVerifier({ algorithms: ['ES256'], key: ecPem })
  assert.throws(() => esVerifier.verify(hs256(ecPem, { alg: 'HS256' }, { exp: FUTURE() })), code('ERR_JWT_ALG_NOT_ALLOWED'))
  // A JWK serialised to JSON is not a secret either (fast-jwt GHSA-g3jj-5cmm-3hxx).
  const jwkText = JSON.stringify(ec.publicKey.export({ format: 'jwk' }))
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: jwkText }), /JWK/)
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: ` \n${jwkText}` }), /JWK/)
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: Buffer.from(jwkText) }), /JWK/)
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: JSON.stringify({ keys: [] }) }), /JWK/)
  // A secret that merely starts with "{" is still a secret (random bytes do, one time in 256).
  for (const secret of [Buffer.concat([Buffer.from('{'), randomBytes(40)]), `{${'s'.repeat(40)}}`, '{"not":"a key","pad":"xxxxxxxxxxxxxxxx"}']) {
    const verifier = new JwtVerifier({ algorithms: ['HS256'], key: secret, requireExp: false })
    assert.equal(verifier.verify(new JwtSigner({ algorithm: 'HS256', key: secret }).sign({ sub: 's' })).sub, 's')
  }
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: ec.publicKey.export({ format: 'jwk' }) }), code('ERR_INVALID_ARG_VALUE'))
})

test('alg not in the allow-list', () => {
  const other = new JwtSigner({ algorithm: 'RS384', key: rsa.privateKey }).sign({})
  assert.throws(() => rsVerifier.verify(other), code('ERR_JWT_ALG_NOT_ALLOWED'))
  const ps = new JwtSigner({ algorithm: 'PS256', key: rsa.privateKey }).sign({})
  assert.throws(() => rsVerifier.verify(ps), code('ERR_JWT_ALG_NOT_ALLOWED'))
  for (const alg of ['hs256', 'HS256 ', 'es512', 'ES521', 'RS1', '', 42, null]) {
    assert.throws(() => hsVerifier.verify(hs256(SECRET, { alg }, good())), (e) => ['ERR_JWT_ALG_NOT_ALLOWED', 'ERR_JWT_MALFORMED'].includes(e.code))
  }
})

test('stripped signature', () => {
  const [h, p] = hs256(SECRET, { alg: 'HS256' }, good()).split('.')
  assert.throws(() => hsVerifier.verify(`${h}.${p}.`), code('ERR_JWT_SIGNATURE_INVALID'))
  assert.throws(() => hsVerifier.verify(`${h}.${p}`), code('ERR_JWT_MALFORMED'))
})

test('modified payload', () => {
  const [h, , s] = hs256(SECRET, { alg: 'HS256' }, good()).split('.')
  const tampered = `${h}.${b64({ ...good(), sub: 'admin' })}.${s}`
  assert.throws(() => hsVerifier.verify(tampered), code('ERR_JWT_SIGNATURE_INVALID'))
})

test('expired', () => {
  const now = Math.floor(Date.now() / 1000)
  assert.throws(() => hsVerifier.verify(hs256(SECRET, { alg: 'HS256' }, { ...good(), exp: now - 1 })), code('ERR_JWT_EXPIRED', 'exp'))
  assert.throws(() => hsVerifier.verify(hs256(SECRET, { alg: 'HS256' }, { ...good(), exp: now })), code('ERR_JWT_EXPIRED', 'exp'))
})

test('nbf in the future', () => {
  const token = hs256(SECRET, { alg: 'HS256' }, { ...good(), nbf: FUTURE() - 300 })
  assert.throws(() => hsVerifier.verify(token), code('ERR_JWT_NOT_YET_VALID', 'nbf'))
})

test('iat in the future', () => {
  const token = hs256(SECRET, { alg: 'HS256' }, { ...good(), iat: FUTURE() - 300 })
  assert.throws(() => hsVerifier.verify(token), code('ERR_JWT_CLAIM_INVALID', 'iat'))
})

test('exp (or nbf, iat) as a string does not skip the time check (CVE-2026-25537)', () => {
  for (const [claim, value] of [
    ['exp', '1'],
    ['exp', String(FUTURE())],
    ['nbf', '99999999999'],
    ['iat', '0'],
    ['exp', null],
    ['exp', [FUTURE()]],
    ['exp', { n: 1 }],
    ['exp', true],
  ]) {
    const token = hs256(SECRET, { alg: 'HS256' }, { ...good(), [claim]: value })
    assert.throws(() => hsVerifier.verify(token), code('ERR_JWT_CLAIM_INVALID', claim), `${claim}: ${JSON.stringify(value)}`)
  }
})

test('array iss does not match by any element (CVE-2025-30144); sub and jti must be strings', () => {
  for (const [claim, value] of [
    ['iss', ['api']],
    ['iss', ['evil', 'api']],
    ['sub', ['1']],
    ['jti', ['x']],
    ['sub', 1],
  ]) {
    const token = hs256(SECRET, { alg: 'HS256' }, { ...good(), [claim]: value })
    assert.throws(() => hsVerifier.verify(token), code('ERR_JWT_CLAIM_INVALID', claim))
  }
})

test('wrong aud, missing aud, and aud by prefix or case', () => {
  for (const aud of ['other', 'App', 'app ', 'ap', ['other'], [], [['app']], 7]) {
    const token = hs256(SECRET, { alg: 'HS256' }, { ...good(), aud })
    assert.throws(() => hsVerifier.verify(token), code('ERR_JWT_CLAIM_INVALID', 'aud'), JSON.stringify(aud))
  }
  const { aud, ...noAud } = good()
  assert.ok(aud)
  assert.throws(() => hsVerifier.verify(hs256(SECRET, { alg: 'HS256' }, noAud)), code('ERR_JWT_CLAIM_INVALID', 'aud'))
})

test('unknown crit header', () => {
  const cases = [
    { alg: 'HS256', crit: ['exp'], exp: 1 },
    { alg: 'HS256', crit: ['b64'], b64: false },
    { alg: 'HS256', crit: [] },
    { alg: 'HS256', crit: 'exp' },
    { alg: 'HS256', crit: ['missing'] },
    { alg: 'HS256', crit: ['alg'] },
  ]
  for (const header of cases) {
    assert.throws(() => hsVerifier.verify(hs256(SECRET, header, good())), code('ERR_JWT_MALFORMED'), JSON.stringify(header))
  }
  // An extension the application declares it understands is accepted.
  const understood = new JwtVerifier({ algorithms: ['HS256'], key: SECRET, critHeaders: ['tenant'], issuer: 'api', audience: 'app' })
  assert.equal(understood.verify(hs256(SECRET, { alg: 'HS256', crit: ['tenant'], tenant: 't1' }, good())).sub, '1')
})

test('kid naming no key', () => {
  const jwks = { keys: [{ kty: 'oct', kid: 'a', k: SECRET.toString('base64url') }] }
  const verifier = new JwtVerifier({ algorithms: ['HS256'], key: jwks, requireExp: false })
  assert.equal(verifier.verify(hs256(SECRET, { alg: 'HS256', kid: 'a' }, {})).constructor, Object)
  assert.throws(() => verifier.verify(hs256(SECRET, { alg: 'HS256', kid: 'b' }, {})), code('ERR_JWT_KEY_NOT_FOUND'))
  assert.throws(() => verifier.verify(hs256(SECRET, { alg: 'HS256', kid: 7 }, {})), code('ERR_JWT_MALFORMED'))
  // kid is looked up, never used as a path, URL or query (jku/x5u/jwk headers are ignored).
  const embedded = hs256(SECRET, { alg: 'HS256', kid: 'a', jku: 'https://evil.example/jwks', jwk: { kty: 'oct', k: 'AAAA' } }, {})
  assert.equal(typeof verifier.verify(embedded), 'object')
})

test('oversize token is refused before any decoding', () => {
  const huge = `${'a'.repeat(20 * 1024 * 1024)}.b.c`
  const start = process.hrtime.bigint()
  assert.throws(() => hsVerifier.verify(huge), code('ERR_JWT_MALFORMED'))
  const big = hs256(SECRET, { alg: 'HS256' }, { ...good(), pad: 'x'.repeat(17 * 1024) })
  assert.throws(() => hsVerifier.verify(big), /maxTokenLength/)
  const roomy = new JwtVerifier({ algorithms: ['HS256'], key: SECRET, issuer: 'api', audience: 'app', maxTokenLength: 64 * 1024 })
  assert.equal(roomy.verify(big).sub, '1')
  assert.ok(process.hrtime.bigint() - start < 2_000_000_000n)
})

test('deeply nested payload', () => {
  const deep = `{"sub":"1","iss":"api","aud":"app","exp":${FUTURE()},"x":${'['.repeat(1000)}${']'.repeat(1000)}}`
  assert.throws(() => hsVerifier.verify(hs256(SECRET, { alg: 'HS256' }, b64(deep))), code('ERR_JWT_MALFORMED'))
  const deepHeader = `{"alg":"HS256","x":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`
  assert.throws(() => hsVerifier.verify(hs256(SECRET, b64(deepHeader), good())), code('ERR_JWT_MALFORMED'))
})

test('non-object payload (fast-jwt #638: an array skipped every claim check)', () => {
  for (const payload of ['[]', '[{"exp":1}]', '"str"', '42', 'null', 'true', '', 'not json']) {
    assert.throws(() => hsVerifier.verify(hs256(SECRET, { alg: 'HS256' }, b64(payload))), code('ERR_JWT_MALFORMED'), payload)
  }
  for (const header of ['[]', '"HS256"', 'null']) {
    assert.throws(() => hsVerifier.verify(hs256(SECRET, b64(header), good())), code('ERR_JWT_MALFORMED'), header)
  }
})

test('duplicate claim and header names', () => {
  const exp = FUTURE()
  const dupClaims = `{"sub":"1","iss":"api","aud":"app","exp":${exp},"sub":"admin"}`
  assert.throws(() => hsVerifier.verify(hs256(SECRET, { alg: 'HS256' }, b64(dupClaims))), code('ERR_JWT_MALFORMED'))
  const escaped = `{"sub":"1","iss":"api","aud":"app","exp":${exp},"\\u0073ub":"admin"}`
  assert.throws(() => hsVerifier.verify(hs256(SECRET, { alg: 'HS256' }, b64(escaped))), code('ERR_JWT_MALFORMED'))
  const dupHeader = '{"alg":"none","alg":"HS256"}'
  assert.throws(() => hsVerifier.verify(hs256(SECRET, b64(dupHeader), good())), code('ERR_JWT_MALFORMED'))
})

test('padding, whitespace and non-canonical base64url in segments', () => {
  const token = hs256(SECRET, { alg: 'HS256' }, good())
  const [h, p, s] = token.split('.')
  const variants = [
    `${h}=.${p}.${s}`,
    `${h}.${p}==.${s}`,
    `${h}.${p}.${s}=`,
    ` ${token}`,
    `${token} `,
    `${token}\n`,
    `${h}. ${p}.${s}`,
    `${h}.${p.slice(0, 10)}\n${p.slice(10)}.${s}`,
    `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}${/[-_]/.test(s) ? '' : '+'}`,
    // Non-canonical: the unused low bits of the last character set (decodes to the same bytes elsewhere).
    `${h}.${p}.${s.slice(0, -1)}${String.fromCharCode(s.charCodeAt(s.length - 1) + 1)}`,
    `${h}.${p}.${s}.extra`,
    `${h}.${p}.${s}.${h}.${p}`,
  ]
  for (const bad of variants) {
    assert.throws(() => hsVerifier.verify(bad), (e) => ['ERR_JWT_MALFORMED', 'ERR_JWT_SIGNATURE_INVALID'].includes(e.code), JSON.stringify(bad.slice(-8)))
  }
  assert.equal(hsVerifier.verify(token).sub, '1')
})

test('empty and short secrets are refused at construction', () => {
  for (const key of ['', Buffer.alloc(0), new Uint8Array(0), 'short', Buffer.alloc(31)]) {
    assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key }), code('ERR_INVALID_ARG_VALUE'))
    assert.throws(() => new JwtSigner({ algorithm: 'HS256', key }), code('ERR_INVALID_ARG_VALUE'))
  }
  assert.throws(() => new JwtSigner({ algorithm: 'HS512', key: Buffer.alloc(63) }), /64 bytes/)
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: { kty: 'oct', k: '' } }), code('ERR_INVALID_ARG_VALUE'))
})

test('RSA keys under 2048 bits are refused at construction', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
  assert.throws(() => new JwtVerifier({ algorithms: ['RS256'], key: small.publicKey.export({ format: 'pem', type: 'spki' }) }), /2048/)
  assert.throws(() => new JwtSigner({ algorithm: 'RS256', key: small.privateKey }), /2048/)
})

test('error messages never echo the token', () => {
  const secretish = 'PLANTED-claim-value-9f8e7d'
  const tokens = [
    hs256(SECRET, { alg: 'HS256' }, { ...good(), exp: 1, note: secretish }),
    hs256(SECRET, { alg: 'HS256' }, { ...good(), aud: secretish }),
    hs256(SECRET, { alg: 'HS256', kid: secretish }, good()).slice(0, -2),
    `${b64({ alg: secretish })}.${b64(good())}.x`,
  ]
  for (const token of tokens) {
    assert.throws(() => hsVerifier.verify(token), (e) => {
      for (const part of [token, ...token.split('.'), secretish]) assert.ok(!e.message.includes(part), e.message)
      return true
    })
  }
})

test('a JWE (five segments) is refused as malformed, not decrypted or skipped', () => {
  assert.throws(() => hsVerifier.verify(`${b64({ alg: 'dir', enc: 'A256GCM' })}..AAAA.AAAA.AAAA`), code('ERR_JWT_MALFORMED'))
})
