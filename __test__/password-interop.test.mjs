// Hashes cross-verified both ways with node-argon2, @node-rs/argon2 and bcryptjs.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import * as nodeRs from '@node-rs/argon2'
import nodeArgon2 from 'argon2'
import bcryptjs from 'bcryptjs'
import { hashPassword, needsRehash, verifyPassword } from 'rampart'

const PASSWORD = 'Tr0ub4dor&3 ✓'
const SECRET = Buffer.from('a pepper of some length')

test('node-argon2 hashes verify here (its defaults, argon2i/d, secret, associated data)', async () => {
  const cases = [
    [{}, {}],
    [{ type: nodeArgon2.argon2i, memoryCost: 4096, timeCost: 3, parallelism: 1 }, {}],
    [{ type: nodeArgon2.argon2d, memoryCost: 4096, timeCost: 2, parallelism: 2 }, {}],
    [{ type: nodeArgon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1, secret: SECRET }, { secret: SECRET }],
    [{ memoryCost: 8192, timeCost: 2, associatedData: Buffer.from('tenant-7') }, {}],
    [{ memoryCost: 8192, timeCost: 2, hashLength: 16, saltLength: 8 }, {}],
    [{ memoryCost: 8192, timeCost: 2, hashLength: 64 }, {}],
  ]
  for (const [theirOptions, ourOptions] of cases) {
    const hash = await nodeArgon2.hash(PASSWORD, theirOptions)
    assert.equal(await verifyPassword(hash, PASSWORD, ourOptions), true, hash)
    assert.equal(await verifyPassword(hash, PASSWORD + '!', ourOptions), false, hash)
  }
})

test('rampart hashes verify in node-argon2', async () => {
  const plain = await hashPassword(PASSWORD)
  assert.equal(await nodeArgon2.verify(plain, PASSWORD), true)
  assert.equal(await nodeArgon2.verify(plain, 'nope'), false)
  assert.equal(nodeArgon2.needsRehash(plain, { memoryCost: 19456, timeCost: 2, parallelism: 1 }), false)
  const peppered = await hashPassword(PASSWORD, { secret: SECRET, memoryCost: 8192, parallelism: 2 })
  assert.equal(await nodeArgon2.verify(peppered, PASSWORD, { secret: SECRET }), true)
  assert.equal(await nodeArgon2.verify(peppered, PASSWORD), false)
})

test('@node-rs/argon2 hashes verify here, and ours verify there', async () => {
  for (const options of [{}, { memoryCost: 65536, timeCost: 3, parallelism: 4 }, { algorithm: nodeRs.Algorithm.Argon2i }]) {
    const theirs = await nodeRs.hash(PASSWORD, options)
    assert.equal(await verifyPassword(theirs, PASSWORD), true, theirs)
    assert.equal(await verifyPassword(theirs, 'nope'), false)
  }
  const peppered = await nodeRs.hash(PASSWORD, { secret: SECRET })
  assert.equal(await verifyPassword(peppered, PASSWORD, { secret: SECRET }), true)

  const ours = await hashPassword(PASSWORD)
  assert.equal(await nodeRs.verify(ours, PASSWORD), true)
  assert.equal(await nodeRs.verify(ours, 'nope'), false)
  const oursPeppered = await hashPassword(PASSWORD, { secret: SECRET })
  assert.equal(await nodeRs.verify(oursPeppered, PASSWORD, { secret: SECRET }), true)
})

test('bcryptjs hashes ($2a$, $2b$, and the same hash as $2y$) verify here and need a rehash', async () => {
  for (const minor of ['a', 'b']) {
    // bcryptjs writes $2b$; given a $2a$ salt it hashes and labels as $2a$.
    const hash = bcryptjs.hashSync(PASSWORD, bcryptjs.genSaltSync(10).replace('$2b$', `$2${minor}$`))
    assert.ok(hash.startsWith(`$2${minor}$10$`))
    assert.equal(await verifyPassword(hash, PASSWORD), true)
    assert.equal(await verifyPassword(hash, PASSWORD.slice(1)), false)
    assert.equal(needsRehash(hash), true)
    const y = hash.replace(/^\$2.\$/, '$2y$')
    assert.equal(await verifyPassword(y, PASSWORD), true)
  }
})

test('bcrypt migration: verify the old hash, then store argon2id', async () => {
  const stored = bcryptjs.hashSync(PASSWORD, 10)
  let current = stored
  if ((await verifyPassword(current, PASSWORD)) && needsRehash(current)) {
    current = await hashPassword(PASSWORD)
  }
  assert.match(current, /^\$argon2id\$/)
  assert.equal(needsRehash(current), false)
  assert.equal(await verifyPassword(current, PASSWORD), true)
})

test('bcrypt and passwords over 72 bytes: an error by default, truncation only when asked', async () => {
  const long = 'x'.repeat(72) + 'tail'
  const hash = bcryptjs.hashSync(long, 4) // bcryptjs silently hashes only the first 72 bytes
  await assert.rejects(verifyPassword(hash, long), { name: 'RangeError', code: 'ERR_BCRYPT_TOO_LONG' })
  // With truncation the first 72 bytes decide, exactly as in bcryptjs: any tail matches.
  assert.equal(await verifyPassword(hash, long, { bcryptTruncate: true }), true)
  assert.equal(await verifyPassword(hash, 'x'.repeat(72) + 'other', { bcryptTruncate: true }), true)
  assert.equal(bcryptjs.compareSync('x'.repeat(72) + 'other', hash), true)
  // Exactly 72 bytes is checked in full without any option; multi-byte characters count as bytes.
  assert.equal(await verifyPassword(hash, 'x'.repeat(72)), true)
  const emoji = '🔑'.repeat(19) // 76 bytes
  const emojiHash = bcryptjs.hashSync(emoji, 4)
  await assert.rejects(verifyPassword(emojiHash, emoji), { code: 'ERR_BCRYPT_TOO_LONG' })
})
