// TOTP verification: rampart's native Totp against otpauth (the maintained JS library), in one
// process, interleaved rounds, medians. Three cases, all with the usual window of +-1 step:
// - valid: the current code, object built once (otpauth stops at the first match, rampart
//   always computes the whole window so timing does not reveal which step matched);
// - wrong: a wrong code, every step of the window computed by both;
// - per request: the object built from the stored base32 secret, then a valid code verified
//   (what a login handler does, since the secret is per user).
import * as OTPAuth from 'otpauth'
import { Totp } from 'rampart'

import { QUICK, machine, median, publish, rate, version } from './common.mjs'

const ROUNDS = QUICK ? 1 : 5
const ROUND_MS = QUICK ? 300 : 1000
const secret = Totp.generateSecret()
const ours = new Totp({ secret })
const theirs = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) })
const time = 1_700_000_000
const timestamp = time * 1000
const valid = ours.generate({ time })
let wrong = '000000'
while (ours.verify(wrong, { time }) !== null) wrong = String(Number(wrong) + 1).padStart(6, '0')
if (theirs.validate({ token: valid, timestamp, window: 1 }) !== 0) throw new Error('otpauth disagrees on the valid code')

const cases = {
  valid: {
    rampart: () => ours.verify(valid, { time }),
    otpauth: () => theirs.validate({ token: valid, timestamp, window: 1 }),
  },
  wrong: {
    rampart: () => ours.verify(wrong, { time }),
    otpauth: () => theirs.validate({ token: wrong, timestamp, window: 1 }),
  },
  'per request': {
    rampart: () => new Totp({ secret }).verify(valid, { time }),
    otpauth: () => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).validate({ token: valid, timestamp, window: 1 }),
  },
}

const results = new Map()
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, pair] of Object.entries(cases)) {
    const libs = round % 2 ? ['otpauth', 'rampart'] : ['rampart', 'otpauth']
    for (const lib of libs) {
      const key = `${name}|${lib}`
      const rates = results.get(key) ?? []
      rates.push(await rate(pair[lib], false, ROUND_MS))
      results.set(key, rates)
    }
  }
  process.stderr.write('.')
}
process.stderr.write('\n')

const rows = []
const ratios = []
for (const name of Object.keys(cases)) {
  const ourRate = median(results.get(`${name}|rampart`))
  const theirRate = median(results.get(`${name}|otpauth`))
  rows.push(`| ${name} | ${Math.round(ourRate).toLocaleString('en-US')} | ${Math.round(theirRate).toLocaleString('en-US')} | ${(ourRate / theirRate).toFixed(2)}x |`)
  ratios.push({ label: `TOTP verify (${name})`, ratio: ourRate / theirRate })
}
publish(
  'totp',
  [
    `Measured ${machine()}; rampart ${version('rampart')}, otpauth ${version('otpauth')}; SHA-1, 6 digits, window +-1; ${ROUNDS} interleaved round(s) of ${ROUND_MS} ms, median.`,
    '',
    '| case | rampart verify/s | otpauth validate/s | rampart / otpauth |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
  ].join('\n'),
  ratios,
)
