// rampart/mfa: TotpGuard (replay across requests and races, attempt limit, store failures,
// events) and RecoveryCodes (format, hashing, one use under 20 concurrent requests).
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { test } from 'node:test'

import { Totp } from 'rampart'
import { NAMES } from 'rampart/events'
import { MemoryRecoveryStore, deriveKey, MemoryStepStore, RecoveryCodes, TotpGuard, normalizeRecoveryCode } from 'rampart/mfa'

const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }
const T = 1_700_000_000

/** Collects the payloads of one channel while `fn` runs. */
async function capture(name, fn) {
  const seen = []
  const listener = (message) => seen.push(message)
  diagnosticsChannel.subscribe(name, listener)
  try {
    await fn()
  } finally {
    diagnosticsChannel.unsubscribe(name, listener)
  }
  return seen
}

/** A store whose every call resolves on a later turn, as a networked store would. */
function slow(store) {
  return new Proxy(store, {
    get(target, prop) {
      const value = target[prop]
      if (typeof value !== 'function') return value
      return (...args) => new Promise((resolve) => setTimeout(() => resolve(value.apply(target, args)), Math.random() * 5))
    },
  })
}

test('TotpGuard: a code is accepted once; the same code again is refused as replayed', async () => {
  const guard = new TotpGuard()
  const totp = new Totp({ secret: Totp.generateSecret() })
  const code = totp.generate({ time: T })
  const first = await guard.verify({ totp, code, account: 'u1', time: T })
  assert.deepEqual(first, { ok: true, step: Math.floor(T / 30), delta: 0 })
  assert.deepEqual(await guard.verify({ totp, code, account: 'u1', time: T + 10 }), { ok: false, reason: 'replayed' })
  // The previous step's code is refused too; the next step's is accepted.
  assert.equal((await guard.verify({ totp, code: totp.generate({ time: T - 30 }), account: 'u1', time: T })).ok, false)
  assert.equal((await guard.verify({ totp, code: totp.generate({ time: T + 30 }), account: 'u1', time: T + 30 })).ok, true)
  // Another account has its own last step.
  assert.equal((await guard.verify({ totp, code, account: 'u2', time: T })).ok, true)
})

test('TotpGuard: 20 concurrent requests with one code over a slow store: exactly one succeeds', async () => {
  const guard = new TotpGuard({ store: slow(new MemoryStepStore()), maxConsecutiveFailures: 100 })
  const totp = new Totp({ secret: Totp.generateSecret() })
  const code = totp.generate({ time: T })
  const results = await Promise.all(Array.from({ length: 20 }, () => guard.verify({ totp, code, account: 'race', time: T })))
  assert.equal(results.filter((r) => r.ok).length, 1)
  assert.ok(results.filter((r) => !r.ok).every((r) => r.reason === 'replayed'))
})

test('TotpGuard: wrong codes are limited per account, a success clears the count', async () => {
  const guard = new TotpGuard({ maxConsecutiveFailures: 3, blockMs: 60_000 })
  const totp = new Totp({ secret: Totp.generateSecret() })
  let wrong = '000000'
  while (totp.verify(wrong, { time: T }) !== null) wrong = String(Number(wrong) + 1).padStart(6, '0')
  for (let i = 0; i < 3; i++) assert.deepEqual(await guard.verify({ totp, code: wrong, account: 'a', time: T }), { ok: false, reason: 'invalid' })
  const blocked = await guard.verify({ totp, code: totp.generate({ time: T }), account: 'a', time: T })
  assert.equal(blocked.reason, 'blocked', 'even the right code is refused while blocked')
  assert.ok(blocked.retryAfterMs > 0)
  assert.equal((await guard.verify({ totp, code: totp.generate({ time: T }), account: 'b', time: T })).ok, true, 'other accounts unaffected')
  // Malformed codes count as failures, never throw.
  const other = new TotpGuard({ maxConsecutiveFailures: 2 })
  for (const code of [123456, 'abcdef', '1'.repeat(100_000), undefined]) {
    assert.equal((await other.verify({ totp, code, account: `m${String(code).length}`, time: T })).reason, 'invalid')
  }
  await other.verify({ totp, code: wrong, account: 'c', time: T })
  assert.equal((await other.verify({ totp, code: totp.generate({ time: T }), account: 'c', time: T })).ok, true)
  await other.verify({ totp, code: wrong, account: 'c', time: T + 30 })
  assert.equal((await other.verify({ totp, code: wrong, account: 'c', time: T + 30 })).reason, 'invalid', 'count restarted after the success')
})

test('TotpGuard: a failing store rejects (fail closed) and publishes a store outage without secrets', async () => {
  const broken = { get: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379 AUTH hunter2'), { code: 'ECONNREFUSED' })), advance: () => true }
  const guard = new TotpGuard({ store: broken })
  const totp = new Totp({ secret: Totp.generateSecret() })
  const seen = await capture(NAMES.storeOutage, async () => {
    await assert.rejects(guard.verify({ totp, code: totp.generate({ time: T }), account: 'x', time: T }), { code: 'ECONNREFUSED' })
  })
  assert.deepEqual(
    seen.map(({ time, ...rest }) => rest),
    [{ event: 'store.outage', store: 'totp-steps', operation: 'get', failOpen: false, error: 'ECONNREFUSED' }],
  )
})

test('TotpGuard: stores may return steps as numeric strings (Redis); anything else fails closed', async () => {
  const totp = new Totp({ secret: Totp.generateSecret() })
  const code = totp.generate({ time: T })
  const step = String(Math.floor(T / 30))
  const redisLike = { get: async () => step, advance: async () => true }
  assert.deepEqual(await new TotpGuard({ store: redisLike }).verify({ totp, code, account: 'r', time: T }), { ok: false, reason: 'replayed' })
  const broken = { get: async () => ({ step }), advance: async () => true }
  await assert.rejects(new TotpGuard({ store: broken }).verify({ totp, code, account: 'r', time: T }), { code: 'ERR_INVALID_RETURN_VALUE' })
})

test('TotpGuard: failures are published on rampart:mfa.failed with ids and IPs only', async () => {
  const guard = new TotpGuard({ maxConsecutiveFailures: 1 })
  const totp = new Totp({ secret: Totp.generateSecret() })
  const code = totp.generate({ time: T })
  const seen = await capture(NAMES.mfaFailed, async () => {
    await guard.verify({ totp, code, account: 42, ip: '203.0.113.9', time: T })
    await guard.verify({ totp, code, account: 42, ip: '203.0.113.9', time: T })
    await guard.verify({ totp, code, account: 42, ip: '203.0.113.9', time: T })
  })
  assert.deepEqual(
    seen.map(({ time, ...rest }) => rest),
    [
      { event: 'mfa.failed', account: '42', ip: '203.0.113.9', method: 'totp', reason: 'replayed' },
      { event: 'mfa.failed', account: '42', ip: '203.0.113.9', method: 'totp', reason: 'blocked' },
    ],
  )
  assert.ok(!JSON.stringify(seen).includes(code))
})

test('TotpGuard: bad arguments are coded TypeErrors', async () => {
  const totp = new Totp({ secret: Totp.generateSecret() })
  assert.throws(() => new TotpGuard(null), TYPE)
  assert.throws(() => new TotpGuard({ store: {} }), TYPE)
  assert.throws(() => new TotpGuard({ limiter: { hit() {} } }), TYPE)
  const guard = new TotpGuard()
  await assert.rejects(guard.verify({ totp: {}, code: '123456', account: 'a' }), TYPE)
  await assert.rejects(guard.verify({ totp, code: '123456', account: '' }), TYPE)
  await assert.rejects(guard.verify({ totp, code: '123456', account: {} }), TYPE)
  await assert.rejects(guard.verify(null), TYPE)
})

test('RecoveryCodes: readable codes, keyed hashes only, tolerant input', () => {
  const key = deriveKey(Buffer.alloc(32, 7), 'recovery-codes')
  const recovery = new RecoveryCodes({ key })
  const { codes, hashes } = recovery.generate()
  assert.equal(codes.length, 10)
  assert.equal(new Set(codes).size, 10)
  for (const code of codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/)
  for (const hash of hashes) assert.match(hash, /^[A-Za-z0-9_-]{43}$/)
  assert.ok(!hashes.some((hash) => codes.some((code) => hash.includes(code.replace(/-/g, '')))))
  assert.equal(recovery.hash(codes[0].toUpperCase().replace(/-/g, ' ')), hashes[0])
  assert.equal(normalizeRecoveryCode('ab1o-IL00-xyz9'), 'ab10110' + '0xyz9')
  assert.equal(recovery.hash('not-a-code'), null)
  assert.equal(recovery.hash(42), null)
  // Another key gives other hashes: a leaked table is useless without the key.
  assert.notEqual(new RecoveryCodes({ key: deriveKey(Buffer.alloc(32, 8), 'recovery-codes') }).hash(codes[0]), hashes[0])
  assert.throws(() => new RecoveryCodes({ key: Buffer.alloc(16) }), TYPE)
  assert.throws(() => new RecoveryCodes({ key, count: 0 }), RANGE)
  assert.throws(() => new RecoveryCodes({ key, store: { consume() {} } }), TYPE)
})

test('RecoveryCodes: a code works once, also for 20 concurrent requests', async () => {
  const recovery = new RecoveryCodes({ key: deriveKey(Buffer.alloc(32, 1), 'recovery-codes'), store: slow(new MemoryRecoveryStore()), count: 5 })
  const codes = await recovery.reset('u1')
  assert.equal(await recovery.remaining('u1'), 5)
  const seen = await capture(NAMES.recoveryCodeUsed, async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => recovery.consume('u1', codes[0], { ip: '198.51.100.4' })))
    assert.equal(results.filter((r) => r.ok).length, 1)
  })
  assert.deepEqual(
    seen.map(({ time, ...rest }) => rest),
    [{ event: 'recovery-code.used', account: 'u1', ip: '198.51.100.4', remaining: 4 }],
  )
  assert.deepEqual(await recovery.consume('u1', codes[0]), { ok: false })
  assert.deepEqual(await recovery.consume('u2', codes[1]), { ok: false }, 'codes belong to their account')
  assert.deepEqual(await recovery.consume('u1', codes[1]), { ok: true, remaining: 3 })
  // A reset invalidates every old code.
  await recovery.reset('u1')
  assert.deepEqual(await recovery.consume('u1', codes[2]), { ok: false })
})

test('deriveKey: HKDF-SHA-256 subkeys per purpose, checked inputs', async () => {
  const { hkdfSync } = await import('node:crypto')
  const master = Buffer.alloc(32, 9)
  assert.deepEqual(deriveKey(master, 'csrf'), Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'rampart:csrf', 32)))
  assert.notDeepEqual(deriveKey(master, 'csrf'), deriveKey(master, 'recovery-codes'))
  assert.deepEqual(deriveKey(master.toString('hex'), 'csrf'), deriveKey(master, 'csrf'))
  assert.deepEqual(deriveKey(master.toString('base64'), 'csrf'), deriveKey(master, 'csrf'))
  assert.throws(() => deriveKey(Buffer.alloc(31), 'csrf'), RANGE)
  assert.throws(() => deriveKey(42, 'csrf'), TYPE)
  assert.throws(() => deriveKey(master, ''), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => deriveKey('not base64 !!', 'csrf'), { code: 'ERR_INVALID_ARG_VALUE' })
})
