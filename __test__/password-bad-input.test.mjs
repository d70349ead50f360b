// Every password export called with wrong input gives its documented error, never a crash, and
// no error message repeats a password or a stored hash.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import {
  configurePasswordPool,
  hashPassword,
  hashPasswordSync,
  needsRehash,
  passwordPoolStats,
  verifyPassword,
  verifyPasswordSync,
} from 'rampart'

const PASSWORD = 'hunter2-PLANTED-password'
const GOOD_HASH = hashPasswordSync(PASSWORD, { memoryCost: 64, timeCost: 1 })
const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }
const FORMAT = { name: 'Error', code: 'ERR_HASH_FORMAT' }
const PARAMS = { name: 'Error', code: 'ERR_HASH_PARAMS' }

const NOT_BYTES = [undefined, null, 42, 0, NaN, true, {}, [], [1, 2], () => {}, Symbol('s'), 10n, new Uint16Array(4), new DataView(new ArrayBuffer(4))]
const NOT_OBJECTS = [42, 'str', true, [], 10n]

/** Checks one call of an async export and its sync twin. */
async function expectError(asyncCall, syncCall, expected) {
  const check = (error) => {
    assert.equal(error.constructor.name, expected.name)
    assert.equal(error.code, expected.code)
    assert.ok(!error.message.includes(PASSWORD), `message repeats the password: ${error.message}`)
    assert.ok(!error.message.includes(GOOD_HASH.slice(30)), `message repeats the hash: ${error.message}`)
    return true
  }
  const promise = asyncCall()
  assert.ok(promise instanceof Promise, 'async exports return a promise even for bad input')
  await assert.rejects(promise, check)
  if (syncCall) assert.throws(syncCall, check)
}

test('password arguments of the wrong type', async () => {
  for (const bad of NOT_BYTES) {
    await expectError(() => hashPassword(bad), () => hashPasswordSync(bad), TYPE)
    await expectError(() => verifyPassword(GOOD_HASH, bad), () => verifyPasswordSync(GOOD_HASH, bad), TYPE)
  }
})

test('hash arguments of the wrong type', async () => {
  for (const bad of [...NOT_BYTES, Buffer.from(GOOD_HASH)]) {
    await expectError(() => verifyPassword(bad, PASSWORD), () => verifyPasswordSync(bad, PASSWORD), TYPE)
    assert.throws(() => needsRehash(bad), (e) => e.code === TYPE.code && e instanceof TypeError)
  }
})

test('options of the wrong type', async () => {
  for (const bad of NOT_OBJECTS) {
    await expectError(() => hashPassword(PASSWORD, bad), () => hashPasswordSync(PASSWORD, bad), TYPE)
    await expectError(() => verifyPassword(GOOD_HASH, PASSWORD, bad), () => verifyPasswordSync(GOOD_HASH, PASSWORD, bad), TYPE)
    assert.throws(() => configurePasswordPool(bad), TYPE)
  }
  for (const [key, value] of [['memoryCost', '19456'], ['timeCost', true], ['parallelism', {}], ['secret', 42], ['signal', {}], ['signal', 'abort']]) {
    await expectError(() => hashPassword(PASSWORD, { [key]: value }), null, TYPE)
  }
  await expectError(() => verifyPassword(GOOD_HASH, PASSWORD, { bcryptTruncate: 'yes' }), null, TYPE)
  await expectError(() => verifyPassword(GOOD_HASH, PASSWORD, { maxMemoryCost: '1' }), null, TYPE)
})

test('empty and oversized input', async () => {
  await expectError(() => hashPassword(''), () => hashPasswordSync(''), RANGE)
  await expectError(() => hashPassword(Buffer.alloc(0)), () => hashPasswordSync(new Uint8Array(0)), RANGE)
  const huge = 'p'.repeat(1024 * 1024)
  await expectError(() => hashPassword(huge), () => hashPasswordSync(huge), RANGE)
  await expectError(() => verifyPassword(GOOD_HASH, huge), () => verifyPasswordSync(GOOD_HASH, huge), RANGE)
  await expectError(() => hashPassword(PASSWORD, { secret: Buffer.alloc(1025) }), null, RANGE)
  await expectError(() => verifyPassword('', PASSWORD), () => verifyPasswordSync('', PASSWORD), FORMAT)
  await expectError(() => verifyPassword('$'.repeat(1024 * 1024), PASSWORD), null, FORMAT)
  // Exactly at the limits is fine.
  assert.equal(typeof hashPasswordSync('p'.repeat(4096), { memoryCost: 64, timeCost: 1 }), 'string')
})

test('absurd cost parameters are a RangeError before any work', async () => {
  const cases = [
    { memoryCost: 0 },
    { memoryCost: 7 },
    { memoryCost: 15, parallelism: 2 },
    { memoryCost: 2 ** 32 },
    { memoryCost: 1e300 },
    { memoryCost: -1 },
    { memoryCost: 1.5 },
    { memoryCost: NaN },
    { memoryCost: Infinity },
    { timeCost: 0 },
    { timeCost: 1025 },
    { parallelism: 0 },
    { parallelism: 256 },
    { parallelism: 2 ** 24 },
  ]
  for (const options of cases) {
    await expectError(() => hashPassword(PASSWORD, options), () => hashPasswordSync(PASSWORD, options), RANGE)
    assert.throws(() => needsRehash(GOOD_HASH, options), RANGE)
  }
  for (const options of [{ threads: 0 }, { threads: 257 }, { maxQueue: -1 }, { maxQueue: 1.5 }]) {
    assert.throws(() => configurePasswordPool(options), RANGE)
  }
  await expectError(() => verifyPassword(GOOD_HASH, PASSWORD, { maxBcryptCost: 32 }), null, RANGE)
})

test('malformed stored hashes are ERR_HASH_FORMAT', async () => {
  const malformed = [
    'plain text',
    PASSWORD,
    '$argon2id$',
    '$argon2id$v=19$m=19456,t=2,p=1$',
    '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    '$argon2id$v=19$m=19456,t=2,p=1,keyid=AA$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    '$argon2id$v=19$m=19456,t=2,p=0$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    '$argon2id$v=19$m= 19456,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc\n',
    '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPé',
    '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lh',
    '$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
    '$2b$99$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
    '$scrypt$ln=17,r=8,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
  ]
  for (const hash of malformed) {
    await expectError(() => verifyPassword(hash, PASSWORD), () => verifyPasswordSync(hash, PASSWORD), FORMAT)
    assert.throws(() => needsRehash(hash), FORMAT)
  }
})

test('every truncation of a valid hash is rejected or fails to verify, never accepted', async () => {
  for (let length = 0; length < GOOD_HASH.length; length++) {
    const truncated = GOOD_HASH.slice(0, length)
    try {
      assert.equal(await verifyPassword(truncated, PASSWORD), false, truncated)
    } catch (error) {
      assert.equal(error.code, 'ERR_HASH_FORMAT', truncated)
    }
  }
})

test('stored hashes above the cost bounds are ERR_HASH_PARAMS, and the bounds are configurable', async () => {
  const salt = 'c29tZXNhbHRzb21lc2FsdA'
  const tag = 'CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'
  const hostile = [
    `$argon2id$v=19$m=4294967295,t=1,p=1$${salt}$${tag}`,
    `$argon2id$v=19$m=262145,t=1,p=1$${salt}$${tag}`,
    `$argon2id$v=19$m=65536,t=17,p=1$${salt}$${tag}`,
    `$argon2id$v=19$m=65536,t=4294967295,p=1$${salt}$${tag}`,
    `$argon2id$v=19$m=16777215,t=1,p=17$${salt}$${tag}`,
    '$2b$17$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
    '$2b$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
  ]
  for (const hash of hostile) {
    await expectError(() => verifyPassword(hash, PASSWORD), () => verifyPasswordSync(hash, PASSWORD), PARAMS)
  }
  const strongHash = hashPasswordSync(PASSWORD, { memoryCost: 1024, timeCost: 3 })
  await expectError(() => verifyPassword(strongHash, PASSWORD, { maxMemoryCost: 512 }), null, PARAMS)
  await expectError(() => verifyPassword(strongHash, PASSWORD, { maxTimeCost: 2 }), null, PARAMS)
  assert.equal(await verifyPassword(strongHash, PASSWORD, { maxMemoryCost: 1024, maxTimeCost: 3 }), true)
})

test('passwordPoolStats takes no input and always answers', () => {
  const stats = passwordPoolStats(1, 'ignored')
  for (const key of ['threads', 'maxQueue', 'running', 'queued', 'completed', 'rejected']) {
    assert.equal(typeof stats[key], 'number', key)
  }
})
