// AES-256-GCM one-shot encrypt and decrypt: rampart's Keyring against node:crypto and WebCrypto,
// in one run, at 64 B, 1 KiB, 64 KiB and 1 MiB.
//
// Every contender does the same job: a fresh random 96-bit nonce per message, a 16-byte tag,
// associated data, and one output buffer holding everything needed to decrypt. node:crypto
// uses createCipheriv/createDecipheriv with `authTagLength: 16` and concatenates
// iv ‖ ciphertext ‖ tag; WebCrypto calls are awaited one at a time. rampart's envelope also
// carries its 3-byte header and key id. Rounds are interleaved; medians are reported.
import { createCipheriv, createDecipheriv, randomBytes, webcrypto } from 'node:crypto'

import { Keyring } from 'rampart'

import { QUICK, machine, median, publish, rate as rateFor } from './common.mjs'

const ROUNDS = QUICK ? 1 : 5
const ROUND_MS = QUICK ? 100 : 400
const SIZES = [64, 1024, 64 * 1024, 1024 * 1024]
const AAD = Buffer.from('users.email:42')

const key = Keyring.generateKey()
const ring = new Keyring({ keys: [{ id: '2026-01', key }], primary: '2026-01' })
const options = { context: AAD }
const subtleKey = await webcrypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt'])

function nodeEncrypt(plaintext) {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
  cipher.setAAD(AAD)
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
}

function nodeDecrypt(box) {
  const decipher = createDecipheriv('aes-256-gcm', key, box.subarray(0, 12), { authTagLength: 16 })
  decipher.setAAD(AAD)
  decipher.setAuthTag(box.subarray(box.length - 16))
  return Buffer.concat([decipher.update(box.subarray(12, box.length - 16)), decipher.final()])
}

async function subtleEncrypt(plaintext) {
  const iv = webcrypto.getRandomValues(new Uint8Array(12))
  const sealed = await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: AAD, tagLength: 128 }, subtleKey, plaintext)
  return Buffer.concat([iv, new Uint8Array(sealed)])
}

async function subtleDecrypt(box) {
  const plain = await webcrypto.subtle.decrypt(
    { name: 'AES-GCM', iv: box.subarray(0, 12), additionalData: AAD, tagLength: 128 },
    subtleKey,
    box.subarray(12),
  )
  return Buffer.from(plain)
}

const contenders = [
  {
    name: 'rampart Keyring',
    encrypt: (pt) => ring.encrypt(pt, options),
    decrypt: (box) => ring.decrypt(box, options),
  },
  { name: 'node:crypto createCipheriv', encrypt: nodeEncrypt, decrypt: nodeDecrypt },
  { name: 'WebCrypto subtle', encrypt: subtleEncrypt, decrypt: subtleDecrypt, async: true },
]

// Every contender must round-trip its own output, and refuse it with one bit flipped, before it is timed.
for (const c of contenders) {
  const pt = randomBytes(100)
  const box = await c.encrypt(pt)
  if (!Buffer.from(await c.decrypt(box)).equals(pt)) throw new Error(`${c.name} does not round-trip`)
  const tampered = Buffer.from(box)
  tampered[tampered.length - 20] ^= 1
  const refused = await Promise.resolve()
    .then(() => c.decrypt(tampered))
    .then(() => false, () => true)
  if (!refused) throw new Error(`${c.name} decrypted a tampered ciphertext`)
}

const results = new Map()
for (let round = 0; round < ROUNDS; round++) {
  for (const size of SIZES) {
    const plaintext = randomBytes(size)
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length])
    for (const c of order) {
      const box = await c.encrypt(plaintext)
      for (const [op, fn] of [
        ['encrypt', () => c.encrypt(plaintext)],
        ['decrypt', () => c.decrypt(box)],
      ]) {
        const key = `${c.name}|${op}|${size}`
        const rates = results.get(key) ?? []
        rates.push(await rateFor(fn, c.async, ROUND_MS))
        results.set(key, rates)
      }
      globalThis.gc?.()
    }
  }
  process.stderr.write('.')
}
process.stderr.write('\n')

const label = (size) => (size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`)
const rows = []
for (const op of ['encrypt', 'decrypt']) {
  for (const size of SIZES) {
    const baseline = median(results.get(`node:crypto createCipheriv|${op}|${size}`))
    for (const c of contenders) {
      const rates = results.get(`${c.name}|${op}|${size}`)
      const r = median(rates)
      const spread = ((Math.max(...rates) - Math.min(...rates)) / r) * 100
      rows.push(
        `| ${c.name} | ${op} | ${label(size)} | ${Math.round(r).toLocaleString('en-US')} | ${((r * size) / 1e6).toFixed(1)} | ` +
          `${Math.round(1e9 / r).toLocaleString('en-US')} | ${(r / baseline).toFixed(2)} | ${ROUNDS > 1 ? spread.toFixed(1) : '-'} |`,
      )
    }
  }
}
publish(
  'aead',
  [
    `Measured ${machine()}; ${ROUNDS} interleaved round(s) of ${ROUND_MS} ms per case, median reported.`,
    '',
    '| implementation | op | plaintext | ops/s | MB/s | ns/op (time the event loop is held) | speed vs node:crypto | spread % |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n'),
  ['encrypt', 'decrypt'].flatMap((op) =>
    [64, 64 * 1024].map((size) => ({
      label: `AES-GCM ${op} ${label(size)}`,
      ratio:
        median(results.get(`rampart Keyring|${op}|${size}`)) /
        Math.max(...contenders.slice(1).map((c) => median(results.get(`${c.name}|${op}|${size}`)))),
    })),
  ),
)
