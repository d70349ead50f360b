// rampart/express requireJwt, authorize and errorHandler over real HTTP on Express 4 and 5.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import { JwtSigner, JwtVerifier } from 'rampart'
import { authorize, errorHandler, requireJwt } from 'rampart/express'

const require = createRequire(import.meta.url)
const SECRET = randomBytes(32)
const signer = new JwtSigner({ algorithm: 'HS256', key: SECRET, issuer: 'api', audience: 'app' })
const verifier = new JwtVerifier({ algorithms: ['HS256'], key: SECRET, issuer: 'api', audience: 'app' })

async function serve(express, build) {
  const app = express()
  build(app)
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }
}

async function get(url, headers = {}) {
  const res = await fetch(url, { headers })
  return { status: res.status, headers: res.headers, body: await res.json() }
}

for (const [name, express] of [['Express 5', require('express')], ['Express 4', require('express4')]]) {
  test(`${name}: requireJwt and authorize`, async () => {
    const logged = []
    const { url, close } = await serve(express, (app) => {
      app.get('/me', requireJwt({ verifier }), (req, res) => res.json(req.auth))
      app.get('/optional', requireJwt({ verifier, credentialsRequired: false }), (req, res) => res.json({ auth: req.auth ?? null }))
      app.get('/admin', requireJwt({ verifier }), authorize('admin', ['owner']), (_req, res) => res.json({ ok: true }))
      app.get('/no-auth-admin', authorize('admin'), (_req, res) => res.json({ ok: true }))
      app.get('/boom', () => {
        throw Object.assign(new Error('db password=hunter2 rejected'), { code: 'E_DB' })
      })
      app.get('/teapot', () => {
        throw Object.assign(new Error('short and stout'), { status: 418, expose: true })
      })
      app.use(errorHandler({ logger: { error: (fields) => logged.push(JSON.stringify(fields)) }, production: true }))
    })
    try {
      const user = signer.sign({ sub: '1', role: 'user' })
      const owner = signer.sign({ sub: '2', roles: ['owner'] })
      assert.deepEqual((await get(`${url}/me`, { authorization: `Bearer ${user}` })).body.sub, '1')
      assert.equal((await get(`${url}/me`, { authorization: `bearer ${user}` })).status, 200)
      for (const header of [`Basic ${user}`, `Bearer  ${user}`, `Bearer ${user} x`, 'Bearer', `Token ${user}`]) {
        const res = await get(`${url}/me`, { authorization: header })
        assert.equal(res.status, 400, header)
        assert.match(res.headers.get('www-authenticate'), /invalid_request/)
      }
      assert.equal((await get(`${url}/optional`)).body.auth, null)
      assert.equal((await get(`${url}/optional`, { authorization: `Bearer ${user}` })).body.auth.sub, '1')
      assert.equal((await get(`${url}/optional`, { authorization: 'Bearer x.y.z' })).status, 401)
      assert.equal((await get(`${url}/admin`, { authorization: `Bearer ${user}` })).status, 403)
      assert.equal((await get(`${url}/admin`, { authorization: `Bearer ${owner}` })).status, 200)
      assert.equal((await get(`${url}/no-auth-admin`)).status, 401)
      const boom = await get(`${url}/boom`)
      assert.deepEqual([boom.status, boom.body], [500, { error: 'Internal Server Error' }])
      assert.ok(logged.some((line) => line.includes('E_DB')))
      assert.ok(logged.every((line) => !line.includes('hunter2')))
      assert.deepEqual((await get(`${url}/teapot`)).body, { error: 'short and stout' })
    } finally {
      close()
    }
  })
}

test('misconfiguration is refused at setup', () => {
  assert.throws(() => requireJwt(), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => requireJwt({ verifier: {} }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => requireJwt({ verifier, getToken: 'header' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => authorize(), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => authorize(1), { code: 'ERR_INVALID_ARG_TYPE' })
})
