// Password hashing through the package entry point, as users load it.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import {
  hashPassword,
  hashPasswordSync,
  needsRehash,
  verifyPassword,
  verifyPasswordSync,
} from 'rampart'

// Cheap parameters keep the suite fast where the cost itself is not under test.
const FAST = { memoryCost: 64, timeCost: 1 }

// RFC 9106 section 5.3 (Argon2id, m=32 KiB, t=3, p=4, secret and associated data), written as
// the PHC string node-argon2 would store: the associated data goes in `data=`.
const RFC9106_ARGON2ID =
  '$argon2id$v=19$m=32,t=3,p=4,data=BAQEBAQEBAQEBAQE$AgICAgICAgICAgICAgICAg$' +
  'DWQN9Y14dmwIwDejSotTydAe8EUtdbZetSUg6WsB5lk'

test('hashPassword uses argon2id with OWASP defaults and a PHC string', async () => {
  const hash = await hashPassword('correct horse')
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
  assert.equal(await verifyPassword(hash, 'correct horse'), true)
  assert.equal(await verifyPassword(hash, 'correct horsf'), false)
  assert.equal(needsRehash(hash), false)
})

test('every hash gets a fresh salt', async () => {
  const [a, b] = await Promise.all([hashPassword('same', FAST), hashPassword('same', FAST)])
  assert.notEqual(a, b)
})

test('RFC 9106 argon2id vector verifies through the JS API', async () => {
  const password = Buffer.alloc(32, 1)
  const secret = Buffer.alloc(8, 3)
  assert.equal(await verifyPassword(RFC9106_ARGON2ID, password, { secret }), true)
  assert.equal(verifyPasswordSync(RFC9106_ARGON2ID, password, { secret }), true)
  // Any change to the password, the secret or the associated data breaks it.
  assert.equal(await verifyPassword(RFC9106_ARGON2ID, password), false)
  assert.equal(await verifyPassword(RFC9106_ARGON2ID, Buffer.alloc(32, 2), { secret }), false)
  const otherData = RFC9106_ARGON2ID.replace('data=BAQEBAQEBAQEBAQE', 'data=BAQEBAQEBAQEBAQF')
  assert.equal(await verifyPassword(otherData, password, { secret }), false)
})

test('options set the cost and appear in the PHC string', async () => {
  const hash = await hashPassword('pw', { memoryCost: 256, timeCost: 3, parallelism: 2 })
  assert.match(hash, /^\$argon2id\$v=19\$m=256,t=3,p=2\$/)
  assert.equal(await verifyPassword(hash, 'pw'), true)
})

test('sync twins produce and accept the same format', async () => {
  const hash = hashPasswordSync('pw', FAST)
  assert.equal(verifyPasswordSync(hash, 'pw'), true)
  assert.equal(verifyPasswordSync(hash, 'wrong'), false)
  assert.equal(await verifyPassword(hash, 'pw'), true)
  assert.equal(verifyPasswordSync(await hashPassword('pw', FAST), 'pw'), true)
})

test('strings and bytes are the same password', async () => {
  const text = 'pässwörd 🔑'
  const hash = await hashPassword(text, FAST)
  assert.equal(await verifyPassword(hash, Buffer.from(text)), true)
  assert.equal(await verifyPassword(hash, new Uint8Array(Buffer.from(text))), true)
  // Any bytes are accepted, including NUL and invalid UTF-8.
  const raw = Uint8Array.from([0, 0xff, 0xfe, 0, 1])
  const rawHash = await hashPassword(raw, FAST)
  assert.equal(await verifyPassword(rawHash, Buffer.from(raw)), true)
  assert.equal(await verifyPassword(rawHash, Uint8Array.from([0, 0xff, 0xfe, 0])), false)
})

test('a pepper (secret) is required to verify a peppered hash', async () => {
  const secret = Buffer.from('server-side pepper')
  const hash = await hashPassword('pw', { ...FAST, secret })
  assert.equal(await verifyPassword(hash, 'pw', { secret }), true)
  assert.equal(await verifyPassword(hash, 'pw', { secret: 'server-side pepper' }), true)
  assert.equal(await verifyPassword(hash, 'pw'), false)
  assert.equal(await verifyPassword(hash, 'pw', { secret: 'other pepper' }), false)
})

test('an empty password never verifies', async () => {
  const hash = await hashPassword('x', FAST)
  assert.equal(await verifyPassword(hash, ''), false)
  assert.equal(verifyPasswordSync(hash, Buffer.alloc(0)), false)
})

test('needsRehash flags weaker hashes, other variants and bcrypt, not stronger ones', async () => {
  const salt = 'c29tZXNhbHRzb21lc2FsdA'
  const tag = 'CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'
  const phc = (head) => `${head}$${salt}$${tag}`
  assert.equal(needsRehash(phc('$argon2id$v=19$m=19456,t=2,p=1')), false)
  assert.equal(needsRehash(phc('$argon2id$v=19$m=65536,t=3,p=4')), false)
  assert.equal(needsRehash(phc('$argon2id$v=19$m=4096,t=2,p=1')), true)
  assert.equal(needsRehash(phc('$argon2id$v=19$m=19456,t=1,p=1')), true)
  assert.equal(needsRehash(phc('$argon2i$v=19$m=19456,t=2,p=1')), true)
  assert.equal(needsRehash(phc('$argon2id$v=16$m=19456,t=2,p=1')), true)
  assert.equal(needsRehash('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'), true)
  // Against a caller's own target.
  assert.equal(needsRehash(phc('$argon2id$v=19$m=19456,t=2,p=1'), { memoryCost: 65536 }), true)
  assert.equal(needsRehash(await hashPassword('x', FAST), FAST), false)
  assert.equal(needsRehash(await hashPassword('x', FAST)), true)
})
