// Keyring (AES-256-GCM envelopes) through the package entry point.
import assert from 'node:assert/strict'
import { createDecipheriv } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { inspect } from 'node:util'

import { Keyring } from 'rampart'

const KATS = JSON.parse(readFileSync(new URL('./fixtures/keyring-kat.json', import.meta.url), 'utf8'))
const KEY_A = Buffer.alloc(32, 0xa1)
const KEY_B = Buffer.alloc(32, 0xb2)
const ringA = () => new Keyring({ keys: [{ id: 'A', key: KEY_A }], primary: 'A' })
const CTX = { context: 'users.email:42' }

/** Reads an envelope with node:crypto alone, following the byte layout in docs/keyring.md. */
function openWithNodeCrypto(envelope, key, context) {
  const idLength = envelope[2]
  const header = envelope.subarray(0, 3 + idLength)
  const nonce = envelope.subarray(3 + idLength, 15 + idLength)
  const ciphertext = envelope.subarray(15 + idLength, envelope.length - 16)
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 })
  decipher.setAAD(Buffer.concat([header, Buffer.from(context)]))
  decipher.setAuthTag(envelope.subarray(envelope.length - 16))
  return Buffer.concat([decipher.update(ciphertext), decipher.final()])
}

test('generateKey returns 32 fresh random bytes', () => {
  const a = Keyring.generateKey()
  const b = Keyring.generateKey()
  assert.ok(Buffer.isBuffer(a))
  assert.equal(a.length, 32)
  assert.notDeepEqual(a, b)
})

test('encrypt/decrypt round trip, Buffer and text forms', () => {
  const ring = ringA()
  const box = ring.encrypt('alice@example.com', CTX)
  assert.ok(Buffer.isBuffer(box))
  assert.equal(box.length, 3 + 1 + 12 + 17 + 16)
  assert.equal(ring.decrypt(box, CTX).toString(), 'alice@example.com')
  const text = ring.encryptToString('alice@example.com', CTX)
  assert.match(text, /^rmp1\.[A-Za-z0-9_-]+$/)
  assert.equal(ring.decryptString(text, CTX).toString(), 'alice@example.com')
  assert.equal(ring.decrypt(text, CTX).toString(), 'alice@example.com')
  // Fresh nonce every time.
  assert.notDeepEqual(ring.encrypt('same', CTX), ring.encrypt('same', CTX))
})

test('plaintexts of every size and kind', () => {
  const ring = ringA()
  for (const size of [0, 1, 15, 16, 17, 1024, 65536, 1024 * 1024]) {
    const plaintext = Buffer.alloc(size, size % 251)
    const box = ring.encrypt(plaintext, CTX)
    assert.equal(box.length, size + 32)
    assert.deepEqual(ring.decrypt(box, CTX), plaintext, `size ${size}`)
    assert.deepEqual(ring.decryptString(ring.encryptToString(plaintext), {}), plaintext)
  }
  const bytes = Uint8Array.from([0, 255, 128])
  assert.deepEqual([...ring.decrypt(ring.encrypt(bytes))], [0, 255, 128])
  assert.equal(ring.decrypt(ring.encrypt('pässwörd 🔑')).toString(), 'pässwörd 🔑')
  // A Buffer that is a view into a larger ArrayBuffer is read from its own offset.
  const view = Buffer.from('xxhelloxx').subarray(2, 7)
  assert.equal(ring.decrypt(ring.encrypt(view)).toString(), 'hello')
})

test('known-answer envelopes from the committed fixtures', () => {
  for (const kat of KATS) {
    const ring = new Keyring({ keys: [{ id: kat.keyId, key: Buffer.from(kat.key, 'hex') }], primary: kat.keyId })
    const envelope = Buffer.from(kat.envelope, 'hex')
    const plaintext = Buffer.from(kat.plaintext, 'hex')
    assert.deepEqual(ring.decrypt(envelope, { context: kat.context }), plaintext)
    assert.deepEqual(ring.decryptString(kat.text, { context: kat.context }), plaintext)
    assert.equal(kat.text, 'rmp1.' + envelope.toString('base64url'))
    assert.equal(ring.keyId(envelope), kat.keyId)
    assert.equal(ring.keyId(kat.text), kat.keyId)
    assert.deepEqual(openWithNodeCrypto(envelope, Buffer.from(kat.key, 'hex'), kat.context), plaintext)
  }
})

test('envelopes follow the documented layout: node:crypto can read them', () => {
  const key = Keyring.generateKey()
  const ring = new Keyring({ keys: [{ id: 'prod:2026-11', key }], primary: 'prod:2026-11' })
  const box = ring.encrypt('readable elsewhere', { context: 'orders:7' })
  assert.deepEqual([...box.subarray(0, 3)], [1, 1, 'prod:2026-11'.length])
  assert.equal(box.subarray(3, 15).toString(), 'prod:2026-11')
  assert.equal(openWithNodeCrypto(box, key, 'orders:7').toString(), 'readable elsewhere')
  const text = ring.encryptToString('x', { context: Buffer.from([1, 2, 3]) })
  const fromText = Buffer.from(text.slice(5), 'base64url')
  assert.equal(openWithNodeCrypto(fromText, key, Buffer.from([1, 2, 3])).toString(), 'x')
})

test('every single-bit flip, truncation, context or key-id change fails with the documented code', () => {
  const ring = new Keyring({ keys: [{ id: 'A', key: KEY_A }, { id: 'B', key: KEY_B }], primary: 'A' })
  const box = ring.encrypt('0123456789abcdef', CTX)
  for (let bit = 0; bit < box.length * 8; bit++) {
    const tampered = Buffer.from(box)
    tampered[bit >> 3] ^= 1 << (bit & 7)
    assert.throws(
      () => ring.decrypt(tampered, CTX),
      // A flip in the key-id length (byte 2) or the key id (byte 3) names another key id: that
      // key is not in the ring. Every other flip fails authentication.
      (e) => e.code === 'ERR_DECRYPT' || ((bit >> 3 === 2 || bit >> 3 === 3) && e.code === 'ERR_KEY_NOT_FOUND'),
      `bit ${bit}`,
    )
  }
  for (let length = 0; length < box.length; length++) {
    assert.throws(() => ring.decrypt(box.subarray(0, length), CTX), { code: 'ERR_DECRYPT' })
  }
  assert.throws(() => ring.decrypt(box, { context: 'users.email:43' }), { code: 'ERR_DECRYPT' })
  assert.throws(() => ring.decrypt(box), { code: 'ERR_DECRYPT' })
  // Relabel the ciphertext as key B's: B exists, but the header is authenticated.
  const relabelled = Buffer.from(box)
  relabelled[3] = 'B'.charCodeAt(0)
  assert.throws(() => ring.decrypt(relabelled, CTX), { code: 'ERR_DECRYPT' })
  // A stray byte appended is a different ciphertext.
  assert.throws(() => ring.decrypt(Buffer.concat([box, Buffer.from([0])]), CTX), { code: 'ERR_DECRYPT' })
})

test('the text form is parsed strictly and every character change fails', () => {
  const ring = ringA()
  const text = ring.encryptToString('secret value', CTX)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  for (let i = 5; i < text.length; i++) {
    const replacement = alphabet[(alphabet.indexOf(text[i]) + 1) % 64]
    const tampered = text.slice(0, i) + replacement + text.slice(i + 1)
    assert.throws(() => ring.decryptString(tampered, CTX), (e) => ['ERR_DECRYPT', 'ERR_KEY_NOT_FOUND'].includes(e.code), `char ${i}`)
  }
  const malformed = [
    text + '=',
    text + '\n',
    ' ' + text,
    text.replace('rmp1.', 'rmp2.'),
    text.replace('rmp1.', ''),
    text.slice(0, -1),
    text.slice(0, 12),
    text.slice(0, 10) + '+' + text.slice(11),
    text.slice(0, 10) + '/' + text.slice(11),
    'rmp1.',
    '',
    'rmp1.' + 'A'.repeat(100 * 1024 * 1024),
  ]
  for (const bad of malformed) {
    assert.throws(() => ring.decryptString(bad, CTX), { code: 'ERR_DECRYPT' }, JSON.stringify(bad.slice(0, 80)))
    assert.throws(() => ring.decrypt(bad, CTX), { code: 'ERR_DECRYPT' }, JSON.stringify(bad.slice(0, 80)))
  }
})

test('rotation: old data stays readable, reencrypt moves it, removing the old key fails it', () => {
  const before = ringA()
  const oldBox = before.encrypt('rotate me', CTX)
  const oldText = before.encryptToString('rotate me too', CTX)
  assert.equal(before.needsReencrypt(oldBox), false)

  const rotated = new Keyring({ keys: [{ id: 'A', key: KEY_A }, { id: 'B', key: KEY_B }], primary: 'B' })
  assert.equal(rotated.primaryKeyId, 'B')
  assert.equal(rotated.decrypt(oldBox, CTX).toString(), 'rotate me')
  assert.equal(rotated.keyId(oldBox), 'A')
  assert.equal(rotated.needsReencrypt(oldBox), true)
  assert.equal(rotated.keyId(rotated.encrypt('new', CTX)), 'B')

  const moved = rotated.reencrypt(oldBox, CTX)
  assert.ok(Buffer.isBuffer(moved))
  assert.equal(rotated.keyId(moved), 'B')
  assert.equal(rotated.needsReencrypt(moved), false)
  const movedText = rotated.reencrypt(oldText, CTX)
  assert.equal(typeof movedText, 'string')
  assert.equal(rotated.keyId(movedText), 'B')
  assert.throws(() => rotated.reencrypt(oldBox, { context: 'other' }), { code: 'ERR_DECRYPT' })

  const onlyB = new Keyring({ keys: [{ id: 'B', key: KEY_B }], primary: 'B' })
  assert.equal(onlyB.decrypt(moved, CTX).toString(), 'rotate me')
  assert.equal(onlyB.decryptString(movedText, CTX).toString(), 'rotate me too')
  assert.throws(() => onlyB.decrypt(oldBox, CTX), (e) => {
    assert.equal(e.code, 'ERR_KEY_NOT_FOUND')
    assert.match(e.message, /"A"/)
    return true
  })
})

test('keys are accepted as Buffer, Uint8Array, base64 and base64url, and cannot be read back', () => {
  const key = Keyring.generateKey()
  const box = new Keyring({ keys: [{ id: 'k', key }], primary: 'k' }).encrypt('x')
  for (const form of [new Uint8Array(key), key.toString('base64'), key.toString('base64url'), key.toString('base64').replace(/=+$/, '')]) {
    const ring = new Keyring({ keys: [{ id: 'k', key: form }], primary: 'k' })
    assert.equal(ring.decrypt(box).toString(), 'x')
    const seen = [inspect(ring, { showHidden: true, depth: 5 }), JSON.stringify(ring), Object.keys(ring).join(), ...Object.values(ring).map(String)].join('\n')
    for (const encoding of ['hex', 'base64', 'base64url']) assert.ok(!seen.includes(key.toString(encoding)))
  }
})

test('usage counts encryptions; the limit throws ERR_KEY_LIMIT after a warning at half', async () => {
  const ring = new Keyring({ keys: [{ id: 'A', key: KEY_A }, { id: 'B', key: KEY_B }], primary: 'A', maxEncryptionsPerKey: 4 })
  const warnings = []
  // Only rampart's own warnings (the WASI fallback, for one, emits an ExperimentalWarning).
  const onWarning = (w) => w.code?.startsWith('RAMPART_') && warnings.push(w)
  process.on('warning', onWarning)
  try {
    for (let i = 0; i < 4; i++) ring.encrypt('x')
    assert.throws(() => ring.encrypt('x'), (e) => e.code === 'ERR_KEY_LIMIT' && /make a new key the primary/.test(e.message))
    assert.throws(() => ring.encryptToString('x'), { code: 'ERR_KEY_LIMIT' })
    assert.deepEqual(ring.usage(), [
      { id: 'A', primary: true, encryptions: 4, limit: 4 },
      { id: 'B', primary: false, encryptions: 0, limit: 4 },
    ])
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(warnings.length, 1)
    assert.equal(warnings[0].code, 'RAMPART_KEY_USAGE')
    assert.match(warnings[0].message, /key "A" has made 2 encryptions/)
  } finally {
    process.off('warning', onWarning)
  }
  assert.deepEqual(ringA().usage(), [{ id: 'A', primary: true, encryptions: 0, limit: 2 ** 30 }])
})
