// Every JWT constructor and method called with wrong input gives its documented error, never a
// crash, and no message contains a key, secret or token.
import assert from 'node:assert/strict'
import { generateKeyPairSync } from './helpers/keys.mjs'
import { test } from 'node:test'

import { JwtSigner, JwtVerifier, decodeJwtUnverified } from 'rampart'

const SECRET = 'PLANTED-secret-0123456789abcdef-0123456789abcdef'
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const EC_PEM = ec.privateKey.export({ format: 'pem', type: 'pkcs8' })

const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const VALUE = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }
const MALFORMED = { name: 'Error', code: 'ERR_JWT_MALFORMED' }

const NOT_STRINGS = [undefined, null, 42, true, {}, [], () => {}, Symbol('s'), 10n]

function expectThrow(call, expected) {
  assert.throws(call, (error) => {
    assert.equal(error.constructor.name, expected.name, error.message)
    assert.equal(error.code, expected.code, error.message)
    for (const secret of [SECRET, EC_PEM.split('\n')[1]]) assert.ok(!error.message.includes(secret), error.message)
    return true
  })
}

test('JwtSigner constructor', () => {
  for (const bad of [undefined, null, 42, 'str', [], true]) expectThrow(() => new JwtSigner(bad), TYPE)
  expectThrow(() => new JwtSigner({ key: SECRET }), TYPE)
  expectThrow(() => new JwtSigner({ algorithm: 'HS256' }), TYPE)
  for (const algorithm of [42, {}, []]) expectThrow(() => new JwtSigner({ algorithm, key: SECRET }), TYPE)
  for (const algorithm of ['hs256', 'es512', 'ES521', 'none', '', 'HS256\0']) expectThrow(() => new JwtSigner({ algorithm, key: SECRET }), VALUE)
  for (const key of [42, true, () => {}, 10n, new Uint16Array(4)]) expectThrow(() => new JwtSigner({ algorithm: 'HS256', key }), TYPE)
  for (const key of [{}, { kty: 'RSA' }, { kty: 'oct' }, { kty: 'oct', k: 42 }, { kty: 'nope' }, [1]]) {
    expectThrow(() => new JwtSigner({ algorithm: 'HS256', key }), key instanceof Array ? VALUE : VALUE)
  }
  const cyclic = {}
  cyclic.self = cyclic
  assert.throws(() => new JwtSigner({ algorithm: 'HS256', key: cyclic }), TypeError)
  expectThrow(() => new JwtSigner({ algorithm: 'HS256', key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }), VALUE)
  expectThrow(() => new JwtSigner({ algorithm: 'HS256', key: '-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----' }), VALUE)
  expectThrow(() => new JwtSigner({ algorithm: 'ES256', key: EC_PEM.replace('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY').replace('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY') }), VALUE)
  expectThrow(() => new JwtSigner({ algorithm: 'ES256', key: SECRET }), VALUE)
  for (const [option, bad, expected] of [
    ['expiresIn', 0, RANGE],
    ['expiresIn', -1, RANGE],
    ['expiresIn', 1.5, RANGE],
    ['expiresIn', NaN, RANGE],
    ['expiresIn', 1e12, RANGE],
    ['expiresIn', '15m', TYPE],
    ['notBefore', -5, RANGE],
    ['issuer', 42, TYPE],
    ['audience', 42, TYPE],
    ['audience', [1], TYPE],
    ['subject', {}, TYPE],
    ['keyId', [], TYPE],
    ['typ', 1, TYPE],
  ]) {
    expectThrow(() => new JwtSigner({ algorithm: 'HS256', key: SECRET, [option]: bad }), expected)
  }
})

test('JwtVerifier constructor', () => {
  for (const bad of [undefined, null, 42, 'str', [], true]) expectThrow(() => new JwtVerifier(bad), TYPE)
  expectThrow(() => new JwtVerifier({ key: SECRET }), TYPE)
  expectThrow(() => new JwtVerifier({ algorithms: 'HS256', key: SECRET }), TYPE)
  expectThrow(() => new JwtVerifier({ algorithms: [], key: SECRET }), VALUE)
  expectThrow(() => new JwtVerifier({ algorithms: [1], key: SECRET }), TYPE)
  expectThrow(() => new JwtVerifier({ algorithms: new Array(15).fill('HS256'), key: SECRET }), RANGE)
  expectThrow(() => new JwtVerifier({ algorithms: ['HS256'] }), TYPE)
  expectThrow(() => new JwtVerifier({ algorithms: ['HS256'], key: { keys: 'x' } }), VALUE)
  expectThrow(() => new JwtVerifier({ algorithms: ['HS256'], key: { keys: [] } }), VALUE)
  expectThrow(() => new JwtVerifier({ algorithms: ['HS256'], key: { keys: new Array(101).fill({ kty: 'oct', k: 'AA' }) } }), RANGE)
  for (const [option, bad, expected] of [
    ['clockTolerance', -1, RANGE],
    ['clockTolerance', 3601, RANGE],
    ['clockTolerance', Infinity, RANGE],
    ['clockTolerance', '5s', TYPE],
    ['maxAge', 0, RANGE],
    ['maxAge', '1h', TYPE],
    ['requireExp', 'no', TYPE],
    ['requiredClaims', 'exp', undefined],
    ['requiredClaims', [1], TYPE],
    ['issuer', 1, TYPE],
    ['audience', [null], TYPE],
    ['typ', 1, TYPE],
    ['critHeaders', [{}], TYPE],
    ['maxTokenLength', 1, RANGE],
    ['maxTokenLength', 2 ** 21, RANGE],
  ]) {
    const make = () => new JwtVerifier({ algorithms: ['HS256'], key: SECRET, [option]: bad })
    if (expected) expectThrow(make, expected)
    else make()
  }
})

test('sign, verify and decodeJwtUnverified arguments', () => {
  const signer = new JwtSigner({ algorithm: 'HS256', key: SECRET })
  const verifier = new JwtVerifier({ algorithms: ['HS256'], key: SECRET })
  for (const bad of [undefined, null, 42, 'str', [], true, Symbol('s'), 10n]) expectThrow(() => signer.sign(bad), TYPE)
  for (const bad of NOT_STRINGS) {
    expectThrow(() => verifier.verify(bad), TYPE)
    expectThrow(() => decodeJwtUnverified(bad), TYPE)
  }
  for (const currentTime of ['now', {}, NaN, -1, 1e12]) {
    const expected = typeof currentTime === 'number' ? RANGE : TYPE
    expectThrow(() => signer.sign({}, { currentTime }), expected)
    expectThrow(() => verifier.verify(signer.sign({}), { currentTime }), expected)
  }
  expectThrow(() => verifier.verify('x', 5), TYPE)
  expectThrow(() => signer.sign({}, 5), TYPE)
  for (const token of ['', '.', '..', 'a.b.c', '\u00e9.\u00e9.\u00e9', '\0.\0.\0', 'a'.repeat(17000)]) {
    expectThrow(() => verifier.verify(token), MALFORMED)
    expectThrow(() => decodeJwtUnverified(token), MALFORMED)
  }
  // The internal fast paths check their arguments too.
  expectThrow(() => verifier._verify(42), TYPE)
  expectThrow(() => verifier._verify('a.b.c', 'now'), TYPE)
  expectThrow(() => signer._sign(42), TYPE)
  expectThrow(() => signer._sign('[]'), TYPE)
  expectThrow(() => signer._sign('{'), VALUE)
})
