// Every Keyring method called with wrong input gives its documented error, never a crash, and
// no message contains a key or a plaintext.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Keyring } from 'rampart'

const KEY = Buffer.alloc(32, 0x5c)
const PLAINTEXT = 'PLANTED-plaintext-4111111111111111'
const ring = new Keyring({ keys: [{ id: 'k1', key: KEY }], primary: 'k1' })
const BOX = ring.encrypt(PLAINTEXT)

const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const VALUE = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }
const DECRYPT = { name: 'Error', code: 'ERR_DECRYPT' }

const NOT_BYTES = [undefined, null, 42, NaN, true, {}, [], [1, 2], () => {}, Symbol('s'), 10n, new Uint16Array(4), new ArrayBuffer(8), new DataView(new ArrayBuffer(4))]
const NOT_OBJECTS = [42, 'str', true, [], 10n]

function expectThrow(call, expected) {
  assert.throws(call, (error) => {
    assert.equal(error.constructor.name, expected.name, error.message)
    assert.equal(error.code, expected.code, error.message)
    for (const secret of [KEY.toString('hex'), KEY.toString('base64'), PLAINTEXT]) {
      assert.ok(!error.message.includes(secret), `message leaks: ${error.message}`)
    }
    return true
  })
}

test('constructor options', () => {
  const key = KEY
  for (const bad of [undefined, null, ...NOT_OBJECTS]) expectThrow(() => new Keyring(bad), TYPE)
  expectThrow(() => new Keyring({ primary: 'a' }), TYPE)
  expectThrow(() => new Keyring({ keys: {}, primary: 'a' }), TYPE)
  expectThrow(() => new Keyring({ keys: 'k', primary: 'a' }), TYPE)
  expectThrow(() => new Keyring({ keys: [], primary: 'a' }), RANGE)
  expectThrow(() => new Keyring({ keys: [null], primary: 'a' }), TYPE)
  expectThrow(() => new Keyring({ keys: [{ key }], primary: 'a' }), TYPE)
  expectThrow(() => new Keyring({ keys: [{ id: 1, key }], primary: 'a' }), TYPE)
  expectThrow(() => new Keyring({ keys: [{ id: 'a' }], primary: 'a' }), TYPE)
  expectThrow(() => new Keyring({ keys: [{ id: 'a', key: 42 }], primary: 'a' }), TYPE)
  expectThrow(() => new Keyring({ keys: [{ id: 'a', key }] }), TYPE)
  expectThrow(() => new Keyring({ keys: [{ id: 'a', key }], primary: 7 }), TYPE)
  expectThrow(() => new Keyring({ keys: [{ id: 'a', key }], primary: 'b' }), VALUE)
  expectThrow(() => new Keyring({ keys: [{ id: 'a', key }, { id: 'a', key }], primary: 'a' }), VALUE)
  for (const id of ['', 'has space', 'slash/id', 'ü', 'x'.repeat(65), 'new\nline']) {
    expectThrow(() => new Keyring({ keys: [{ id, key }], primary: id }), VALUE)
  }
  for (const badKey of [Buffer.alloc(0), Buffer.alloc(16), Buffer.alloc(31), Buffer.alloc(33), Buffer.alloc(64), Buffer.alloc(16).toString('base64')]) {
    expectThrow(() => new Keyring({ keys: [{ id: 'a', key: badKey }], primary: 'a' }), RANGE)
  }
  for (const badText of ['not base64!', KEY.toString('hex'), KEY.toString('base64') + '=', ' ' + KEY.toString('base64')]) {
    assert.throws(() => new Keyring({ keys: [{ id: 'a', key: badText }], primary: 'a' }), (e) => {
      assert.ok(['ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE'].includes(e.code), e.code)
      assert.ok(!e.message.includes(badText.trim()), 'the key text is not echoed')
      return true
    })
  }
  for (const limit of [0, -1, 1.5, 2 ** 32, NaN]) {
    expectThrow(() => new Keyring({ keys: [{ id: 'a', key }], primary: 'a', maxEncryptionsPerKey: limit }), RANGE)
  }
  expectThrow(() => new Keyring({ keys: [{ id: 'a', key }], primary: 'a', maxEncryptionsPerKey: '5' }), TYPE)
  expectThrow(() => new Keyring({ keys: Array.from({ length: 1001 }, (_, i) => ({ id: `k${i}`, key })), primary: 'k0' }), RANGE)
})

test('encrypt and encryptToString', () => {
  for (const bad of NOT_BYTES) {
    expectThrow(() => ring.encrypt(bad), TYPE)
    expectThrow(() => ring.encryptToString(bad), TYPE)
  }
  for (const bad of NOT_OBJECTS) expectThrow(() => ring.encrypt('x', bad), TYPE)
  for (const bad of [42, {}, [], true]) expectThrow(() => ring.encrypt('x', { context: bad }), TYPE)
  expectThrow(() => ring.encrypt('x', { context: 'c'.repeat(64 * 1024 + 1) }), RANGE)
  expectThrow(() => ring.encrypt(Buffer.alloc(64 * 1024 * 1024 + 1)), RANGE)
  // Absent options and an absent context are the same empty context.
  assert.equal(ring.decrypt(ring.encrypt('x', { context: undefined })).toString(), 'x')
  assert.equal(ring.decrypt(ring.encrypt('x', null), {}).toString(), 'x')
})

test('decrypt, decryptString, keyId, needsReencrypt, reencrypt', () => {
  for (const bad of NOT_BYTES) {
    expectThrow(() => ring.decrypt(bad), TYPE)
    expectThrow(() => ring.keyId(bad), TYPE)
    expectThrow(() => ring.needsReencrypt(bad), TYPE)
    expectThrow(() => ring.reencrypt(bad), TYPE)
  }
  for (const bad of [...NOT_BYTES, BOX]) expectThrow(() => ring.decryptString(bad), TYPE)
  for (const bad of ['', 'x', 'rmp1.', PLAINTEXT, Buffer.alloc(0), Buffer.alloc(31), Buffer.alloc(100), Buffer.from('rmp1.AAAA')]) {
    expectThrow(() => ring.decrypt(bad), DECRYPT)
    expectThrow(() => ring.keyId(bad), DECRYPT)
    expectThrow(() => ring.needsReencrypt(bad), DECRYPT)
    expectThrow(() => ring.reencrypt(bad), DECRYPT)
  }
  for (const bad of NOT_OBJECTS) expectThrow(() => ring.decrypt(BOX, bad), TYPE)
  expectThrow(() => ring.decrypt(BOX, { context: 42 }), TYPE)
  assert.equal(ring.decrypt(BOX).toString(), PLAINTEXT)
})

test('static and accessor members take no input and always answer', () => {
  assert.equal(Keyring.generateKey(1, 2).length, 32)
  assert.equal(ring.primaryKeyId, 'k1')
  assert.ok(Array.isArray(ring.usage('ignored')))
})
