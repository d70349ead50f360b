// The opt-in verified-token cache: a token is never accepted from the cache after its exp, after
// its key left the set, before its nbf, past maxAge, or when any byte differs.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { generateKeyPairSync } from './helpers/keys.mjs'
import { JwtSigner, JwtVerifier, RemoteJwks } from '../js/index.js'
import { code } from './jwt-helpers.mjs'

const SECRET = Buffer.alloc(32, 7)
const T0 = 1_800_000_000
const signer = new JwtSigner({ algorithm: 'HS256', key: SECRET })
const cached = () => new JwtVerifier({ algorithms: ['HS256'], key: SECRET, cache: { maxEntries: 100 } })

test('options.cache is checked', () => {
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: SECRET, cache: 5 }), code('ERR_INVALID_ARG_TYPE'))
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: SECRET, cache: { maxEntries: 0 } }), code('ERR_OUT_OF_RANGE'))
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: SECRET, cache: { maxEntries: 1.5 } }), code('ERR_OUT_OF_RANGE'))
})

test('a hit returns a fresh copy of the payload', () => {
  const verifier = cached()
  const token = signer.sign({ sub: 'a', exp: T0 + 100 }, { currentTime: T0 })
  const first = verifier.verify(token, { currentTime: T0 })
  first.sub = 'changed'
  assert.equal(verifier.verify(token, { currentTime: T0 + 1 }).sub, 'a')
})

test('never accepted from the cache at or after exp', () => {
  const verifier = cached()
  const token = signer.sign({ sub: 'a', exp: T0 + 10 }, { currentTime: T0 })
  assert.equal(verifier.verify(token, { currentTime: T0 }).sub, 'a')
  assert.equal(verifier.verify(token, { currentTime: T0 + 9.999 }).sub, 'a')
  assert.throws(() => verifier.verify(token, { currentTime: T0 + 10 }), code('ERR_JWT_EXPIRED'))
  assert.throws(() => verifier.verify(token, { currentTime: T0 + 1e6 }), code('ERR_JWT_EXPIRED'))
})

test('never accepted from the cache before nbf or past maxAge', () => {
  const verifier = new JwtVerifier({ algorithms: ['HS256'], key: SECRET, maxAge: 60, cache: {} })
  const token = signer.sign({ sub: 'n', nbf: T0 + 5, exp: T0 + 1000 }, { currentTime: T0 })
  assert.equal(verifier.verify(token, { currentTime: T0 + 6 }).sub, 'n')
  assert.throws(() => verifier.verify(token, { currentTime: T0 + 1 }), code('ERR_JWT_NOT_YET_VALID'))
  assert.equal(verifier.verify(token, { currentTime: T0 + 59 }).sub, 'n')
  assert.throws(() => verifier.verify(token, { currentTime: T0 + 61 }))
})

test('a token differing in any byte is never served from the cache', () => {
  const verifier = cached()
  const token = signer.sign({ sub: 'a', role: 'user', exp: T0 + 100 }, { currentTime: T0 })
  verifier.verify(token, { currentTime: T0 })
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '.') continue
    const other = alphabet[(alphabet.indexOf(token[i]) + 1) % 64]
    const changed = token.slice(0, i) + other + token.slice(i + 1)
    assert.throws(() => verifier.verify(changed, { currentTime: T0 }), `byte ${i}`)
  }
  for (const changed of [token + 'A', token.slice(0, -1), ` ${token}`, `${token} `]) {
    assert.throws(() => verifier.verify(changed, { currentTime: T0 }))
  }
  assert.equal(verifier.verify(token, { currentTime: T0 }).sub, 'a')
})

test('bounded: entries beyond maxEntries are evicted, and evicted tokens verify again in full', () => {
  const verifier = new JwtVerifier({ algorithms: ['HS256'], key: SECRET, cache: { maxEntries: 2 } })
  const tokens = [1, 2, 3, 4].map((n) => signer.sign({ n, exp: T0 + 100 }, { currentTime: T0 }))
  for (const token of tokens) verifier.verify(token, { currentTime: T0 })
  for (const [i, token] of tokens.entries()) assert.equal(verifier.verify(token, { currentTime: T0 }).n, i + 1)
})

test('never accepted from the cache after its key left the remote set', async () => {
  const make = (kid) => new JwtSigner({ algorithm: 'ES256', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, keyId: kid })
  const a = make('a')
  const b = make('b')
  let keys = [...a.jwks().keys, ...b.jwks().keys]
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) }))
  const jwks = new RemoteJwks(`http://127.0.0.1:${server.address().port}/`, { allowHttpLocalhost: true, cooldownMs: 0, cacheMaxAgeMs: 20 })
  const verifier = new JwtVerifier({ algorithms: ['ES256'], key: jwks, cache: { maxEntries: 10 } })
  const token = a.sign({ sub: 'gone' })
  assert.equal((await verifier.verifyAsync(token)).sub, 'gone')
  assert.equal(verifier.verify(token).sub, 'gone')
  keys = b.jwks().keys
  await new Promise((resolve) => setTimeout(resolve, 60))
  await assert.rejects(verifier.verifyAsync(token), code('ERR_JWT_KEY_NOT_FOUND'))
  assert.throws(() => verifier.verify(token), code('ERR_JWT_KEY_NOT_FOUND'))
})
