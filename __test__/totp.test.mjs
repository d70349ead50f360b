// Totp (native): RFC 4226 / RFC 6238 vectors, window and replay, base32, otpauth:// URIs, QR
// SVG, interop both ways with `otpauth`, and bad input.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import * as OTPAuth from 'otpauth'
import { Totp } from 'rampart'

const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const VALUE = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }

const SEED20 = Buffer.from('12345678901234567890')
const SEED32 = Buffer.from('12345678901234567890123456789012')
const SEED64 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234')

test('RFC 4226 Appendix D: HOTP values for counters 0-9 (TOTP with T = counter)', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489']
  const totp = new Totp({ secret: SEED20 })
  expected.forEach((code, counter) => {
    assert.equal(totp.generate({ time: counter * 30 }), code)
    assert.deepEqual(totp.verify(code, { time: counter * 30, window: 0 }), { step: counter, delta: 0 })
  })
})

test('RFC 6238 Appendix B: SHA-1/256/512, 8 digits, seeds of 20/32/64 bytes', () => {
  const times = [59, 1111111109, 1111111111, 1234567890, 2000000000, 20000000000]
  const table = {
    SHA1: [SEED20, ['94287082', '07081804', '14050471', '89005924', '69279037', '65353130']],
    SHA256: [SEED32, ['46119246', '68084774', '67062674', '91819424', '90698825', '77737706']],
    SHA512: [SEED64, ['90693936', '25091201', '99943326', '93441116', '38618901', '47863826']],
  }
  for (const [algorithm, [secret, codes]] of Object.entries(table)) {
    const totp = new Totp({ secret, algorithm, digits: 8 })
    assert.equal(totp.algorithm, algorithm)
    times.forEach((time, i) => {
      assert.equal(totp.generate({ time }), codes[i], `${algorithm} at ${time}`)
      const match = totp.verify(codes[i], { time })
      assert.equal(match.step, Math.floor(time / 30))
    })
  }
})

test('window: delta 0 is a match (not falsy), +-1 by default, configurable; the result is null otherwise', () => {
  const totp = new Totp({ secret: SEED20 })
  const t = 1_700_000_000
  const step = Math.floor(t / 30)
  assert.deepEqual(totp.verify(totp.generate({ time: t }), { time: t }), { step, delta: 0 })
  assert.ok(totp.verify(totp.generate({ time: t }), { time: t }), 'a match is truthy even at delta 0')
  assert.deepEqual(totp.verify(totp.generate({ time: t - 30 }), { time: t }), { step: step - 1, delta: -1 })
  assert.deepEqual(totp.verify(totp.generate({ time: t + 30 }), { time: t }), { step: step + 1, delta: 1 })
  assert.equal(totp.verify(totp.generate({ time: t + 60 }), { time: t }), null)
  assert.equal(totp.verify(totp.generate({ time: t - 30 }), { time: t, window: 0 }), null)
  const wide = new Totp({ secret: SEED20, window: 2 })
  assert.equal(wide.window, 2)
  assert.equal(wide.verify(totp.generate({ time: t + 60 }), { time: t }).delta, 2)
  assert.equal(totp.step({ time: t }), step)
  // Default time is now: the current code verifies at delta 0 (or +-1 at a step boundary).
  assert.ok(Math.abs(totp.verify(totp.generate()).delta) <= 1)
})

test('replay protection: the last accepted step and every earlier one are refused', () => {
  const totp = new Totp({ secret: SEED20 })
  const t = 1_700_000_000
  const code = totp.generate({ time: t })
  const first = totp.verify(code, { time: t })
  assert.notEqual(first, null)
  assert.equal(totp.verify(code, { time: t, lastStep: first.step }), null, 'same code again')
  assert.equal(totp.verify(code, { time: t + 20, lastStep: first.step }), null, 'same code later in its window')
  assert.equal(totp.verify(totp.generate({ time: t - 30 }), { time: t, lastStep: first.step }), null, 'an earlier step')
  const next = totp.generate({ time: t + 30 })
  assert.equal(totp.verify(next, { time: t + 30, lastStep: first.step }).step, first.step + 1)
})

test('codes: spaces ignored; letters, wrong lengths, non-ASCII digits and huge strings are simply wrong', () => {
  const totp = new Totp({ secret: SEED20 })
  assert.equal(totp.verify('755 224', { time: 0 }).step, 0)
  for (const bad of ['75522', '7552244', '75522a', '', ' ', '７５５２２４', '-55224', '755224\n', '0x1234', '1e5000', '7'.repeat(1_000_000)]) {
    assert.equal(totp.verify(bad, { time: 0 }), null, JSON.stringify(bad.slice(0, 20)))
  }
  for (const bad of [755224, null, undefined, {}, ['755224'], Buffer.from('755224')]) {
    assert.throws(() => totp.verify(bad, { time: 0 }), TYPE)
  }
})

test('base32 secrets: lower case, spaces, hyphens and padding accepted; malformed text refused with a code', () => {
  const canonical = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
  for (const spelling of [canonical, canonical.toLowerCase(), 'gezd gnbv gy3t qojq gezd gnbv gy3t qojq', 'GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ', `${canonical}`]) {
    assert.equal(new Totp({ secret: spelling }).generate({ time: 59 }), '287082')
  }
  assert.equal(new Totp({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE======' }).digits, 6) // 21 bytes, padded
  for (const bad of ['GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ!', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQG', 'GEZDGNBV=GY3TQOJQ', 'ÉÉÉÉ']) {
    assert.throws(() => new Totp({ secret: bad }), VALUE, bad)
  }
})

test('secret length: 16-128 bytes by default, 10 with allowShortSecret; huge input refused without decoding', () => {
  assert.throws(() => new Totp({ secret: Buffer.alloc(15, 1) }), RANGE)
  assert.throws(() => new Totp({ secret: 'GEZDGNBVGY3TQOJQ' }), RANGE) // 10 bytes
  assert.equal(new Totp({ secret: 'GEZDGNBVGY3TQOJQ', allowShortSecret: true }).generate({ time: 0 }).length, 6)
  assert.throws(() => new Totp({ secret: Buffer.alloc(9, 1), allowShortSecret: true }), RANGE)
  assert.throws(() => new Totp({ secret: Buffer.alloc(129, 1) }), RANGE)
  assert.throws(() => new Totp({ secret: 'A'.repeat(10_000_000) }), RANGE)
  assert.ok(new Totp({ secret: Buffer.alloc(128, 1) }))
})

test('generateSecret: 20 random bytes as unpadded base32 by default, 16-64 on request', () => {
  const secret = Totp.generateSecret()
  assert.match(secret, /^[A-Z2-7]{32}$/)
  assert.notEqual(Totp.generateSecret(), secret)
  assert.match(Totp.generateSecret(32), /^[A-Z2-7]{52}$/)
  assert.throws(() => Totp.generateSecret(15), RANGE)
  assert.throws(() => Totp.generateSecret(65), RANGE)
  assert.throws(() => Totp.generateSecret('20'), TYPE)
  assert.equal(OTPAuth.Secret.fromBase32(secret).bytes.length, 20)
})

test('otpauth:// URI: issuer and account percent-encoded, all parameters written, parsed back by otpauth', () => {
  const totp = new Totp({ secret: SEED20 })
  assert.equal(
    totp.uri({ issuer: 'ACME Co', account: 'john.doe@email.com' }),
    'otpauth://totp/ACME%20Co:john.doe%40email.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30',
  )
  const tricky = { issuer: 'Ünïcode & Co / R+D?#=', account: 'zoë+tag@example.com' }
  for (const options of [{}, { algorithm: 'SHA256', digits: 8, period: 60 }, { algorithm: 'SHA512' }]) {
    const ours = new Totp({ secret: SEED32, ...options })
    const parsed = OTPAuth.URI.parse(ours.uri(tricky))
    assert.equal(parsed.issuer, tricky.issuer)
    assert.equal(parsed.label, tricky.account)
    assert.equal(parsed.algorithm, ours.algorithm)
    assert.equal(parsed.digits, ours.digits)
    assert.equal(parsed.period, ours.period)
    assert.deepEqual(Buffer.from(parsed.secret.bytes), SEED32)
    assert.equal(parsed.generate({ timestamp: 1_700_000_000_000 }), ours.generate({ time: 1_700_000_000 }))
  }
  assert.throws(() => totp.uri({ issuer: 'a:b', account: 'c' }), VALUE)
  assert.throws(() => totp.uri({ issuer: 'a', account: 'line\nbreak' }), VALUE)
  assert.throws(() => totp.uri({ issuer: '', account: 'c' }), RANGE)
  assert.throws(() => totp.uri({ issuer: 'a', account: 'x'.repeat(257) }), RANGE)
  assert.throws(() => totp.uri({ issuer: 'a' }), TYPE)
  assert.throws(() => totp.uri(), TYPE)
})

test('QR code: a standalone SVG of the key URI, sized on request; oversized URIs refused', () => {
  const totp = new Totp({ secret: Totp.generateSecret() })
  const svg = totp.qrSvg({ issuer: 'rampart', account: 'alice@example.com' })
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" version="1\.1" width="256" height="256" viewBox="0 0 (\d+) \1"/)
  assert.match(svg, /<path fill="#000" d="(M\d+ \d+h\d+v1h-\d+z)+"\/><\/svg>$/)
  assert.ok(!svg.includes('secret'), 'the URI is drawn, not embedded as text')
  // Three 7x7 finder patterns: rows starting with a run of 7 at the quiet zone (x = 4).
  assert.ok((svg.match(/M4 \d+h7v1/g) ?? []).length >= 2)
  assert.match(totp.qrSvg({ issuer: 'a', account: 'b', size: 512 }), /width="512" height="512"/)
  assert.throws(() => totp.qrSvg({ issuer: 'a', account: 'b', size: 10 }), RANGE)
  // The longest names (85 three-byte characters each, percent-encoded) make a URI over QR capacity.
  assert.throws(() => totp.qrSvg({ issuer: '€'.repeat(85), account: '€'.repeat(85) }), RANGE)
})

test('interop: otpauth codes verify here, and our codes validate in otpauth (SHA-1/256/512, 6/8 digits, periods)', () => {
  const cases = [
    { algorithm: 'SHA1', digits: 6, period: 30 },
    { algorithm: 'SHA256', digits: 8, period: 30 },
    { algorithm: 'SHA512', digits: 6, period: 60 },
    { algorithm: 'SHA1', digits: 8, period: 15 },
  ]
  for (const params of cases) {
    for (let i = 0; i < 20; i++) {
      const secret = Totp.generateSecret(params.algorithm === 'SHA512' ? 64 : params.algorithm === 'SHA256' ? 32 : 20)
      const theirs = new OTPAuth.TOTP({ ...params, secret: OTPAuth.Secret.fromBase32(secret) })
      const ours = new Totp({ ...params, secret })
      const time = 1_600_000_000 + i * 7919
      const code = theirs.generate({ timestamp: time * 1000 })
      assert.equal(ours.verify(code, { time }).delta, 0)
      assert.equal(theirs.validate({ token: ours.generate({ time }), timestamp: time * 1000, window: 0 }), 0)
      const late = ours.generate({ time: time + params.period })
      assert.equal(theirs.validate({ token: late, timestamp: time * 1000, window: 1 }), 1)
      assert.equal(ours.verify(theirs.generate({ timestamp: (time - params.period) * 1000 }), { time }).delta, -1)
    }
  }
  // A secret generated by otpauth (its default 20 bytes) works here as base32 text.
  const foreign = new OTPAuth.Secret()
  const ours = new Totp({ secret: foreign.base32 })
  assert.equal(ours.generate({ time: 42 }), new OTPAuth.TOTP({ secret: foreign }).generate({ timestamp: 42_000 }))
})

test('bad options: coded errors, no crash, nothing secret in the messages', () => {
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
  assert.throws(() => new Totp(), TYPE)
  assert.throws(() => new Totp(null), TYPE)
  assert.throws(() => new Totp('GEZD'), TYPE)
  assert.throws(() => new Totp({ secret: 42 }), TYPE)
  assert.throws(() => new Totp({ secret, algorithm: 'sha1' }), VALUE)
  assert.throws(() => new Totp({ secret, algorithm: 'MD5' }), VALUE)
  assert.throws(() => new Totp({ secret, digits: 5 }), RANGE)
  assert.throws(() => new Totp({ secret, digits: 9 }), RANGE)
  assert.throws(() => new Totp({ secret, digits: 6.5 }), RANGE)
  assert.throws(() => new Totp({ secret, period: 0 }), RANGE)
  assert.throws(() => new Totp({ secret, period: 3601 }), RANGE)
  assert.throws(() => new Totp({ secret, window: 11 }), RANGE)
  assert.throws(() => new Totp({ secret, allowShortSecret: 'yes' }), TYPE)
  const totp = new Totp({ secret })
  assert.throws(() => totp.verify('123456', { lastStep: -1 }), RANGE)
  assert.throws(() => totp.verify('123456', { lastStep: 1.5 }), RANGE)
  assert.throws(() => totp.verify('123456', { lastStep: '5' }), TYPE)
  assert.throws(() => totp.verify('123456', { time: NaN }), RANGE)
  assert.throws(() => totp.verify('123456', { time: -1 }), RANGE)
  assert.throws(() => totp.verify('123456', { time: Infinity }), RANGE)
  assert.throws(() => totp.verify('123456', { window: 99 }), RANGE)
  assert.throws(() => totp.verify('123456', 'options'), TYPE)
  assert.throws(() => totp.generate({ time: 1e14 }), RANGE)
  // Hostile objects: a throwing getter, a Proxy; errors, never a crash.
  const hostile = Object.defineProperty({}, 'secret', {
    get() {
      throw new Error('boom')
    },
  })
  assert.throws(() => new Totp(hostile))
  const proxy = new Proxy({}, { get: () => ({ valueOf: () => 6 }) })
  assert.throws(() => new Totp(proxy))
  assert.throws(() => totp.verify('123456', proxy))
  for (const attempt of [() => new Totp({ secret: secret.slice(0, 31) + '1' }), () => new Totp({ secret: 'GEZDGNBVGY3TQOJQ' })]) {
    try {
      attempt()
      assert.fail('should throw')
    } catch (error) {
      assert.ok(!error.message.includes('GEZD'), error.message)
    }
  }
})
