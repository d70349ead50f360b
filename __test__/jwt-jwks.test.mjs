// Remote JWKS against a real local HTTP server (no fetch mocks): rotation, removal, 500s, slow
// answers past timeoutMs, invalid JSON, a 10 MB body, a flood of unknown kids, an outage longer
// than maxStaleMs; and interop with jose's createRemoteJWKSet both ways.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { generateKeyPairSync } from './helpers/keys.mjs'
import express from 'express'
import * as jose from 'jose'
import { JwtSigner, JwtVerifier, RemoteJwks } from '../js/index.js'
import { jwksHandler, requireJwt } from '../js/express.js'
import { code } from './jwt-helpers.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function makeSigner(kid, algorithm = 'ES256') {
  const { privateKey } = algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return new JwtSigner({ algorithm, key: privateKey, keyId: kid })
}

/** A JWKS server whose behaviour the test changes: mode 'ok' | '500' | 'slow' | 'badjson' | 'huge'. */
async function jwksServer(initialKeys) {
  const state = { keys: initialKeys, mode: 'ok', hits: 0 }
  const server = createServer((req, res) => {
    state.hits++
    if (state.mode === '500') return res.writeHead(500).end('oops')
    if (state.mode === 'badjson') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [')
    if (state.mode === 'huge') {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(1024 * 1024, 0x20)
      let sent = 0
      const push = () => {
        while (sent < 10) {
          sent++
          if (!res.write(chunk)) return res.once('drain', push)
        }
        res.end('{"keys":[]}')
      }
      res.on('error', () => {})
      return push()
    }
    if (state.mode === 'slow') {
      const timer = setTimeout(() => res.writeHead(200).end(JSON.stringify({ keys: state.keys })), 5000)
      res.on('close', () => clearTimeout(timer))
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${server.address().port}/jwks.json`
  state.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) })
  return state
}

const servers = []
after(() => Promise.all(servers.map((s) => s.close())))
async function setup(keys, options = {}) {
  const server = await jwksServer(keys)
  servers.push(server)
  const errors = []
  const jwks = new RemoteJwks(server.url, { allowHttpLocalhost: true, onError: (e) => errors.push(e), ...options })
  const verifier = new JwtVerifier({ algorithms: ['ES256', 'EdDSA', 'RS256'], key: jwks })
  return { server, jwks, verifier, errors }
}

test('https is required; http only for localhost with allowHttpLocalhost; HS* refused with a remote set', () => {
  assert.throws(() => new RemoteJwks('http://example.com/jwks.json'), code('ERR_INVALID_ARG_VALUE'))
  assert.throws(() => new RemoteJwks('http://127.0.0.1:1/jwks.json'), code('ERR_INVALID_ARG_VALUE'))
  assert.throws(() => new RemoteJwks('http://10.0.0.1/jwks.json', { allowHttpLocalhost: true }), code('ERR_INVALID_ARG_VALUE'))
  assert.ok(new RemoteJwks('https://idp.example/jwks.json'))
  assert.ok(new RemoteJwks('http://localhost:9/jwks.json', { allowHttpLocalhost: true }))
  assert.throws(() => new RemoteJwks('https://idp.example/', { cooldownMs: -1 }), code('ERR_OUT_OF_RANGE'))
  assert.throws(() => new RemoteJwks('https://idp.example/', { headers: 'x' }), code('ERR_INVALID_ARG_TYPE'))
  assert.throws(() => new RemoteJwks('https://idp.example/', { onError: 1 }), code('ERR_INVALID_ARG_TYPE'))
  assert.throws(() => new RemoteJwks('not a url'), code('ERR_INVALID_ARG_VALUE'))
  const jwks = new RemoteJwks('https://idp.example/jwks.json')
  assert.throws(() => new JwtVerifier({ algorithms: ['HS256'], key: jwks }), code('ERR_INVALID_ARG_VALUE'))
  assert.ok(new JwtVerifier({ algorithms: ['ES256'], key: jwks }) instanceof JwtVerifier)
})

test('first use fetches; verify is synchronous once cached; rotation (a new kid) is picked up', async () => {
  const a = makeSigner('a')
  const { server, verifier, jwks } = await setup(a.jwks().keys, { cooldownMs: 0 })
  const token = a.sign({ sub: 'u1' })
  assert.throws(() => verifier.verify(token), code('ERR_JWKS_UNAVAILABLE')) // not fetched yet: starts a fetch
  assert.equal((await verifier.verifyAsync(token)).sub, 'u1')
  assert.equal(verifier.verify(token).sub, 'u1')
  const before = jwks.fetchCount
  for (let i = 0; i < 50; i++) verifier.verify(token)
  assert.equal(jwks.fetchCount, before, 'cached: no fetch per verify')
  const b = makeSigner('b', 'EdDSA')
  server.keys = [...a.jwks().keys, ...b.jwks().keys]
  assert.equal((await verifier.verifyAsync(b.sign({ sub: 'u2' }))).sub, 'u2')
  assert.equal(verifier.verify(token).sub, 'u1')
})

test('a removed key stops verifying after the refresh', async () => {
  const a = makeSigner('a')
  const b = makeSigner('b')
  const { server, verifier } = await setup([...a.jwks().keys, ...b.jwks().keys], { cooldownMs: 0, cacheMaxAgeMs: 20 })
  const token = a.sign({ sub: 'u' })
  assert.equal((await verifier.verifyAsync(token)).sub, 'u')
  server.keys = b.jwks().keys
  await sleep(60)
  await assert.rejects(verifier.verifyAsync(token), code('ERR_JWT_KEY_NOT_FOUND'))
  assert.equal((await verifier.verifyAsync(b.sign({}))).sub, undefined)
})

test('a flood of unknown kids does not refetch within cooldownMs (single flight)', async () => {
  const a = makeSigner('a')
  const { server, verifier, jwks } = await setup(a.jwks().keys, { cooldownMs: 60_000 })
  await verifier.verifyAsync(a.sign({}))
  const hits = server.hits
  const results = await Promise.allSettled(
    Array.from({ length: 200 }, (_, i) => verifier.verifyAsync(makeSignerCached(`random-${i % 5}`).sign({}))),
  )
  for (let i = 0; i < 200; i++) {
    try { verifier.verify(makeSignerCached(`x-${i % 5}`).sign({})) } catch {}
  }
  assert.ok(results.every((r) => r.status === 'rejected' && r.reason.code === 'ERR_JWT_KEY_NOT_FOUND'))
  assert.equal(server.hits, hits, 'no fetch during the cooldown')
  assert.equal(jwks.fetchCount, 1)
})
const cachedSigners = new Map()
function makeSignerCached(kid) {
  if (!cachedSigners.has(kid)) cachedSigners.set(kid, makeSigner(kid))
  return cachedSigners.get(kid)
}

test('concurrent first requests share one fetch', async () => {
  const a = makeSigner('a')
  const { server, verifier } = await setup(a.jwks().keys, { cooldownMs: 0 })
  const token = a.sign({ sub: 'c' })
  const all = await Promise.all(Array.from({ length: 50 }, () => verifier.verifyAsync(token)))
  assert.ok(all.every((p) => p.sub === 'c'))
  assert.equal(server.hits, 1)
})

for (const [mode, expected] of [['500', /HTTP 500/], ['badjson', /invalid JSON/], ['slow', /timed out/], ['huge', /over \d+ bytes/]]) {
  test(`stale-if-error: a refresh failing with ${mode} keeps the last good set and reports once`, async () => {
    const a = makeSigner('a')
    const { server, verifier, errors, jwks } = await setup(a.jwks().keys, { cooldownMs: 0, cacheMaxAgeMs: 20, timeoutMs: 500 })
    const token = a.sign({ sub: 's' })
    assert.equal((await verifier.verifyAsync(token)).sub, 's')
    server.mode = mode
    await sleep(50)
    for (let i = 0; i < 5; i++) {
      assert.equal((await verifier.verifyAsync(token)).sub, 's')
      assert.equal(verifier.verify(token).sub, 's')
    }
    assert.ok(jwks.fetchCount >= 3, 'refreshes were attempted')
    assert.equal(errors.length, 1, 'reported once, not per request')
    assert.match(errors[0].message, expected)
    assert.ok(['ERR_JWKS_FETCH_FAILED', 'ERR_JWKS_INVALID'].includes(errors[0].code))
    // Recovery resets the report: the next outage is reported again.
    server.mode = 'ok'
    await sleep(30)
    await verifier.verifyAsync(token)
    server.mode = '500'
    await sleep(30)
    await verifier.verifyAsync(token)
    assert.equal(errors.length, 2)
  })
}

test('a set with no usable key is a failed refresh; the first fetch failing is ERR_JWKS_UNAVAILABLE', async () => {
  const a = makeSigner('a')
  const { server, verifier, errors } = await setup([{ kty: 'oct', k: 'AAAA' }], { cooldownMs: 0 })
  await assert.rejects(verifier.verifyAsync(a.sign({})), code('ERR_JWKS_UNAVAILABLE'))
  assert.equal(errors[0].code, 'ERR_JWKS_INVALID')
  server.keys = a.jwks().keys
  assert.ok(await verifier.verifyAsync(a.sign({})))
})

test('an outage longer than maxStaleMs fails closed, and recovers when the endpoint does', async () => {
  const a = makeSigner('a')
  const { server, verifier } = await setup(a.jwks().keys, { cooldownMs: 0, cacheMaxAgeMs: 20, maxStaleMs: 30 })
  const token = a.sign({ sub: 'o' })
  await verifier.verifyAsync(token)
  server.mode = '500'
  await sleep(120)
  assert.throws(() => verifier.verify(token), code('ERR_JWKS_UNAVAILABLE'))
  await assert.rejects(verifier.verifyAsync(token), code('ERR_JWKS_UNAVAILABLE'))
  server.mode = 'ok'
  assert.equal((await verifier.verifyAsync(token)).sub, 'o')
})

test('requireJwt with a remote JWKS waits for the fetch; interop with jose both ways through jwksHandler', async () => {
  const signer = makeSigner('k1', 'RS256')
  const app = express()
  app.get('/.well-known/jwks.json', jwksHandler(signer))
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  const base = `http://127.0.0.1:${server.address().port}`
  try {
    const response = await fetch(`${base}/.well-known/jwks.json`)
    assert.equal(response.headers.get('cache-control'), 'public, max-age=300')
    assert.equal(response.headers.get('content-type'), 'application/jwk-set+json')
    const body = await response.json()
    assert.equal(body.keys[0].kid, 'k1')
    assert.ok(!('d' in body.keys[0]))
    // jose verifies rampart's tokens through the rampart JWKS handler.
    const joseSet = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`))
    const { payload } = await jose.jwtVerify(signer.sign({ sub: 'jose' }), joseSet)
    assert.equal(payload.sub, 'jose')
    // rampart verifies jose's tokens with keys served from a JWKS.
    const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'jose-1', alg: 'ES256' }
    const joseServer = await jwksServer([jwk])
    servers.push(joseServer)
    const verifier = new JwtVerifier({ algorithms: ['ES256'], key: new RemoteJwks(joseServer.url, { allowHttpLocalhost: true }) })
    const token = await new jose.SignJWT({ sub: 'from-jose' }).setProtectedHeader({ alg: 'ES256', kid: 'jose-1' }).setExpirationTime('5m').sign(privateKey)
    assert.equal((await verifier.verifyAsync(token)).sub, 'from-jose')
    // requireJwt waits for the fetch on the first request.
    const app2 = express()
    const verifier2 = new JwtVerifier({ algorithms: ['RS256'], key: new RemoteJwks(`${base}/.well-known/jwks.json`, { allowHttpLocalhost: true }) })
    app2.get('/me', requireJwt({ verifier: verifier2 }), (req, res) => res.json(req.auth))
    const server2 = await new Promise((resolve) => { const s = app2.listen(0, '127.0.0.1', () => resolve(s)) })
    try {
      const ok = await fetch(`http://127.0.0.1:${server2.address().port}/me`, { headers: { authorization: `Bearer ${signer.sign({ sub: 'mw' })}` } })
      assert.equal(ok.status, 200)
      assert.equal((await ok.json()).sub, 'mw')
      const bad = await fetch(`http://127.0.0.1:${server2.address().port}/me`, { headers: { authorization: `Bearer ${makeSigner('k1', 'RS256').sign({})}` } })
      assert.equal(bad.status, 401)
    } finally {
      server2.closeAllConnections()
      await new Promise((resolve) => server2.close(resolve))
    }
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

test('signer.jwks() refuses HMAC signers and signers without a key id; jwksHandler refuses private keys', () => {
  assert.throws(() => new JwtSigner({ algorithm: 'HS256', key: Buffer.alloc(32, 1) }).jwks(), code('ERR_INVALID_STATE'))
  const { privateKey } = generateKeyPairSync('ed25519')
  assert.throws(() => new JwtSigner({ algorithm: 'EdDSA', key: privateKey }).jwks(), code('ERR_INVALID_STATE'))
  assert.throws(() => jwksHandler(privateKey.export({ format: 'jwk' })), TypeError)
  assert.throws(() => jwksHandler({ kty: 'oct', k: 'AAAA' }), TypeError)
  const set = new JwtSigner({ algorithm: 'EdDSA', key: privateKey, keyId: 'e1' }).jwks()
  assert.deepEqual(Object.keys(set.keys[0]).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x'])
})
