// The example API publishes its JWKS at /.well-known/jwks.json: another service verifies the
// example's access tokens through a RemoteJwks pointed at it (over real HTTP on 127.0.0.1).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, test } from 'node:test'

import { JwtVerifier, RemoteJwks } from 'rampart'

const require = createRequire(import.meta.url)
const { createApp, ISSUER, AUDIENCE } = require('../examples/express-api/app.js')
const { openDatabase } = require('../examples/express-api/db.js')
const { loadSecrets } = require('../examples/express-api/secrets.js')

const dataDir = mkdtempSync(join(tmpdir(), 'rampart-example-jwks-'))
let server
let db
after(() => {
  server?.closeAllConnections()
  server?.close()
  db?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

test('the example API serves its public JWKS, and its tokens verify through a RemoteJwks', async () => {
  const secrets = loadSecrets(dataDir, {})
  db = await openDatabase(join(dataDir, 'app.sqlite'))
  const logStream = new Writable({ write: (_c, _e, done) => done() })
  const { app } = await createApp({ db, secrets, logStream })
  server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://127.0.0.1:${server.address().port}`

  const res = await fetch(`${base}/.well-known/jwks.json`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('cache-control'), /max-age=\d+/)
  const { keys } = await res.json()
  assert.equal(keys.length, 1)
  assert.equal(keys[0].kid, 'k1')
  assert.equal(keys[0].kty, 'OKP')
  assert.ok(!('d' in keys[0]), 'no private part')

  const post = (path, body) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json())
  const credentials = { email: 'jwks@example.com', password: 'PLANTED-password-jwks-horse' }
  await post('/auth/register', credentials)
  const { accessToken } = await post('/auth/login', credentials)
  const verifier = new JwtVerifier({ algorithms: ['EdDSA'], key: new RemoteJwks(`${base}/.well-known/jwks.json`, { allowHttpLocalhost: true }), issuer: ISSUER, audience: AUDIENCE })
  const payload = await verifier.verifyAsync(accessToken)
  assert.equal(payload.iss, ISSUER)
  assert.ok(payload.sub)
})
