// KeyObject keys straight from generateKeyPairSync, under heavy garbage collection. On Node 20,
// exporting a JWK from such a key deadlocks when a collection during the export finalizes the
// key-generation job (it locks the key's mutex, which the export holds): `new JwtSigner({ key })`
// hung the process within a few hundred constructions before rampart copied keys through DER.
// The loop runs in a child with a 1 MiB young generation (a collection every few allocations);
// a hang fails the test by its timeout. Node 22 and 24 never hung; the test runs on every version.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'

const child = `
const { generateKeyPairSync } = require('node:crypto')
const { JwtSigner, JwtVerifier } = require('rampart')
let junk = []
let tokens = 0
for (let i = 0; i < 300; i++) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const token = new JwtSigner({ algorithm: 'ES256', key: privateKey }).sign({ i })
  new JwtVerifier({ algorithms: ['ES256'], key: publicKey }).verify(token)
  tokens++
  for (let j = 0; j < 50; j++) junk.push(new Array(64).fill(j))
  if (junk.length > 5000) junk = []
}
process.stdout.write(String(tokens))
`

test('JwtSigner and JwtVerifier take generated KeyObjects under constant GC without hanging', () => {
  const run = spawnSync(process.execPath, ['--max-semi-space-size=1', '-e', child], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(run.signal, null, `the child was killed by ${run.signal} (hung?)`)
  assert.equal(run.status, 0, run.stderr)
  assert.equal(run.stdout, '300')
})
