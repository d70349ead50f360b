// JWT sign and verify: rampart against jsonwebtoken (KeyObject and string/PEM key forms), jose,
// fast-jwt (verified-token cache off and on) and @node-rs/jsonwebtoken, in one run, for HS256,
// RS256 (2048-bit), ES256, ES512 (P-521) and EdDSA.
//
// Every contender does the same job: the same claims (sub, role, iat, exp, iss, aud), and verify
// checks the signature, exp, iss and aud and returns the payload; each must refuse a tampered
// token and one for another audience before it is timed. Keys are prepared once where
// the library allows it (rampart constructors, jose KeyObjects, fast-jwt factories); the
// "string key" rows pass the secret or PEM on every call, as most guides show. jose is
// Promise-only and is awaited one call at a time. Every contender's tokens are checked to verify
// with rampart (and rampart's with it) before timing. Rounds are interleaved; medians reported.
import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto'

import * as nodeRs from '@node-rs/jsonwebtoken'
import { createSigner, createVerifier } from 'fast-jwt'
import * as jose from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { JwtSigner, JwtVerifier } from 'rampart'

import { mkdirSync, writeFileSync } from 'node:fs'

import { QUICK, machine, median, publish, rate, version } from './common.mjs'

/** Like publish(), without the README section: prints the table and saves the ratios. */
function publishTableOnly(name, table, ratios) {
  console.log(table)
  mkdirSync(new URL('../bench-results/', import.meta.url), { recursive: true })
  writeFileSync(new URL(`../bench-results/${name}.json`, import.meta.url), JSON.stringify({ name, date: machine(), ratios }, null, 1))
}

const ROUNDS = QUICK ? 1 : 5
const ROUND_MS = QUICK ? 100 : 300
const ISS = 'api.example.com'
const AUD = 'app.example.com'
const CLAIMS = { sub: '42', role: 'admin' }

function keysFor(alg) {
  if (alg === 'HS256') {
    const secret = randomBytes(32).toString('base64url')
    return { signKey: secret, verifyKey: secret, signObject: createSecretKey(Buffer.from(secret)), verifyObject: createSecretKey(Buffer.from(secret)) }
  }
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256' || alg === 'ES512'
        ? generateKeyPairSync('ec', { namedCurve: alg === 'ES256' ? 'P-256' : 'P-521' })
        : generateKeyPairSync('ed25519')
  const signKey = pair.privateKey.export({ format: 'pem', type: 'pkcs8' })
  const verifyKey = pair.publicKey.export({ format: 'pem', type: 'spki' })
  return { signKey, verifyKey, signObject: createPrivateKey(signKey), verifyObject: createPublicKey(verifyKey) }
}

function contendersFor(alg) {
  const k = keysFor(alg)
  const now = () => Math.floor(Date.now() / 1000)
  const payload = () => ({ ...CLAIMS, iat: now(), exp: now() + 900, iss: ISS, aud: AUD })
  const rampartSigner = new JwtSigner({ algorithm: alg, key: k.signKey, issuer: ISS, audience: AUD, expiresIn: 900 })
  const rampartVerifier = new JwtVerifier({ algorithms: [alg], key: k.verifyKey, issuer: ISS, audience: AUD })
  const rampartCached = new JwtVerifier({ algorithms: [alg], key: k.verifyKey, issuer: ISS, audience: AUD, cache: { maxEntries: 10_000 } })
  const fastVerify = createVerifier({ key: k.verifyKey, algorithms: [alg], allowedIss: ISS, allowedAud: AUD })
  const fastVerifyCached = createVerifier({ key: k.verifyKey, algorithms: [alg], allowedIss: ISS, allowedAud: AUD, cache: true })
  const fastSign = createSigner({ key: k.signKey, algorithm: alg, iss: ISS, aud: AUD, expiresIn: 900_000 })
  const secretBytes = alg === 'HS256' ? new TextEncoder().encode(k.signKey) : null
  const joseSignKey = secretBytes ?? k.signObject
  const joseVerifyKey = secretBytes ?? k.verifyObject
  const nodeRsAlg = alg
  const list = [
    {
      name: 'rampart',
      sign: () => rampartSigner.sign(CLAIMS),
      verify: (t) => rampartVerifier.verify(t),
    },
    { name: 'rampart (cache on)', sign: null, verify: (t) => rampartCached.verify(t) },
    {
      name: 'jsonwebtoken (KeyObject)',
      sign: () => jsonwebtoken.sign(CLAIMS, k.signObject, { algorithm: alg, issuer: ISS, audience: AUD, expiresIn: 900 }),
      verify: (t) => jsonwebtoken.verify(t, k.verifyObject, { algorithms: [alg], issuer: ISS, audience: AUD }),
    },
    {
      name: 'jsonwebtoken (string key)',
      sign: () => jsonwebtoken.sign(CLAIMS, k.signKey, { algorithm: alg, issuer: ISS, audience: AUD, expiresIn: 900 }),
      verify: (t) => jsonwebtoken.verify(t, k.verifyKey, { algorithms: [alg], issuer: ISS, audience: AUD }),
    },
    {
      name: 'jose',
      async: true,
      sign: () =>
        new jose.SignJWT(CLAIMS).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt().setExpirationTime('15m').setIssuer(ISS).setAudience(AUD).sign(joseSignKey),
      verify: (t) => jose.jwtVerify(t, joseVerifyKey, { algorithms: [alg], issuer: ISS, audience: AUD }).then((r) => r.payload),
    },
    { name: 'fast-jwt (cache off)', sign: () => fastSign(CLAIMS), verify: (t) => fastVerify(t) },
    { name: 'fast-jwt (cache on)', sign: null, verify: (t) => fastVerifyCached(t) },
    {
      name: '@node-rs/jsonwebtoken (sync)',
      sign: () => nodeRs.signSync(payload(), k.signKey, { algorithm: nodeRsAlg }),
      verify: (t) => nodeRs.verifySync(t, k.verifyKey, { algorithms: [nodeRsAlg], iss: [ISS], aud: [AUD] }),
    },
  ]
  // Tokens every contender must refuse: a flipped signature, and a good signature for another audience.
  const good = rampartSigner.sign(CLAIMS)
  const last = good.at(-2) === 'A' ? 'B' : 'A'
  const bad = [
    `${good.slice(0, -2)}${last}${good.at(-1)}`,
    new JwtSigner({ algorithm: alg, key: k.signKey, issuer: ISS, audience: 'someone-else', expiresIn: 900 }).sign(CLAIMS),
  ]
  return { list, rampartVerifier, rampartSigner, bad }
}

/** Whether `verify` refuses `token` (throws or rejects). */
async function refuses(verify, token) {
  try {
    await verify(token)
    return false
  } catch {
    return true
  }
}

const ALGS = ['HS256', 'RS256', 'ES256', 'ES512', 'EdDSA']
const suites = []
for (const alg of ALGS) {
  const { list, rampartVerifier, bad } = contendersFor(alg)
  const supported = []
  for (const c of list) {
    try {
      // Interop before timing: each contender's token verifies with rampart, and rampart's with it.
      const ownToken = c.sign ? await c.sign() : await list[0].sign()
      const payload = rampartVerifier.verify(ownToken)
      if (payload.sub !== '42') throw new Error('wrong payload')
      const checked = await c.verify(await list[0].sign())
      if (checked.sub !== '42') throw new Error('wrong payload')
      for (const token of bad) {
        if (!(await refuses(c.verify, token))) throw new Error(`${c.name} ${alg} accepted a tampered or wrong-audience token`)
      }
      supported.push({ ...c, token: ownToken })
    } catch (error) {
      if (/accepted a tampered/.test(error.message)) throw error
      console.error(`${c.name} ${alg}: skipped (${error.message})`)
    }
  }
  suites.push({ alg, contenders: supported })
}

const results = new Map()
for (let round = 0; round < ROUNDS; round++) {
  for (const { alg, contenders } of suites) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length])
    for (const c of order) {
      for (const [op, fn] of [
        ['sign', c.sign],
        ['verify', () => c.verify(c.token)],
      ]) {
        if (!fn) continue
        const key = `${alg}|${op}|${c.name}`
        const rates = results.get(key) ?? []
        rates.push(await rate(fn, c.async, ROUND_MS))
        results.set(key, rates)
      }
    }
    globalThis.gc?.()
  }
  process.stderr.write('.')
}
process.stderr.write('\n')

const rows = []
for (const { alg, contenders } of suites) {
  for (const op of ['sign', 'verify']) {
    const baselineName = 'fast-jwt (cache off)'
    const baseline = results.get(`${alg}|${op}|${baselineName}`)
    for (const c of contenders) {
      const rates = results.get(`${alg}|${op}|${c.name}`)
      if (!rates) continue
      const r = median(rates)
      const spread = ((Math.max(...rates) - Math.min(...rates)) / r) * 100
      const ratio = baseline ? (r / median(baseline)).toFixed(2) : '-'
      rows.push(
        `| ${alg} | ${op} | ${c.name} | ${Math.round(r).toLocaleString('en-US')} | ${(1e6 / r).toFixed(2)} | ${ratio} | ${ROUNDS > 1 ? spread.toFixed(1) : '-'} |`,
      )
    }
  }
}
const versions = ['jsonwebtoken', 'jose', 'fast-jwt', '@node-rs/jsonwebtoken'].map((n) => `${n} ${version(n)}`).join(', ')
publish(
  'jwt',
  [
    `Measured ${machine()}; rampart ${version('rampart')}, ${versions}; ${ROUNDS} interleaved round(s) of ${ROUND_MS} ms per case, median reported.`,
    '',
    '| alg | op | implementation | ops/s | µs/op | speed vs fast-jwt (cache off) | spread % |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n'),
  // Against the fastest peer doing the same work (a cache hit is not a verification).
  suites.flatMap(({ alg, contenders }) =>
    ['sign', 'verify'].map((op) => {
      const rate = (c) => median(results.get(`${alg}|${op}|${c.name}`) ?? [0])
      const peers = contenders.filter((c) => !c.name.startsWith('rampart') && c.name !== 'fast-jwt (cache on)' && results.has(`${alg}|${op}|${c.name}`))
      return { label: `JWT ${alg} ${op}`, ratio: rate(contenders[0]) / Math.max(...peers.map(rate)) }
    }),
  ).concat(
    // Cache against cache: a repeated token, both verified-token caches on.
    suites.map(({ alg }) => {
      const rate = (name) => median(results.get(`${alg}|verify|${name}`) ?? [NaN])
      return { label: `JWT ${alg} verify, cache on`, ratio: rate('rampart (cache on)') / rate('fast-jwt (cache on)') }
    }),
  ),
)
for (const { label, ratio } of suites.map(({ alg }) => ({ label: alg, ratio: median(results.get(`${alg}|verify|rampart (cache on)`) ?? [NaN]) / median(results.get(`${alg}|verify|fast-jwt (cache on)`) ?? [NaN]) }))) {
  console.log(`${label} verify, both caches on: rampart ${ratio.toFixed(2)}x fast-jwt`)
}

// ---- Remote JWKS (keys cached): rampart RemoteJwks vs jose createRemoteJWKSet and jwks-rsa +
// jsonwebtoken, all fetching one RS256 key from the same local JWKS server; no token cache.
{
  const { createServer } = await import('node:http')
  const { default: jwksRsa } = await import('jwks-rsa')
  const { RemoteJwks } = await import('rampart')
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const signer = new JwtSigner({ algorithm: 'RS256', key: privateKey, keyId: 'k1', issuer: ISS, audience: AUD, expiresIn: 900 })
  let fetches = 0
  const body = JSON.stringify(signer.jwks())
  const server = createServer((req, res) => {
    fetches++
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`
  const token = signer.sign(CLAIMS)
  const remote = new JwtVerifier({ algorithms: ['RS256'], key: new RemoteJwks(url, { allowHttpLocalhost: true }), issuer: ISS, audience: AUD })
  const joseSet = jose.createRemoteJWKSet(new URL(url))
  const client = jwksRsa({ jwksUri: url, cache: true, rateLimit: false })
  const getKey = (header, cb) => client.getSigningKey(header.kid, (err, key) => cb(err, key?.getPublicKey()))
  const contenders = [
    { name: 'rampart RemoteJwks (verify, sync)', verify: (t = token) => remote.verify(t) },
    { name: 'rampart RemoteJwks (verifyAsync)', async: true, verify: (t = token) => remote.verifyAsync(t) },
    { name: 'jose createRemoteJWKSet', async: true, verify: (t = token) => jose.jwtVerify(t, joseSet, { algorithms: ['RS256'], issuer: ISS, audience: AUD }).then((r) => r.payload) },
    {
      name: 'jwks-rsa + jsonwebtoken',
      async: true,
      verify: (t = token) => new Promise((resolve, reject) => jsonwebtoken.verify(t, getKey, { algorithms: ['RS256'], issuer: ISS, audience: AUD }, (e, p) => (e ? reject(e) : resolve(p)))),
    },
  ]
  await remote.verifyAsync(token) // the first use fetches the set
  for (const c of contenders) {
    if ((await c.verify()).sub !== '42') throw new Error(`${c.name}: wrong payload`)
    const other = new JwtSigner({ algorithm: 'RS256', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, keyId: 'k1', issuer: ISS, audience: AUD }).sign(CLAIMS)
    if (!(await refuses(c.verify, other))) throw new Error(`${c.name} accepted a token from another key`)
  }
  const remoteRates = new Map()
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of contenders.map((_, i) => contenders[(i + round) % contenders.length])) {
      const list = remoteRates.get(c.name) ?? []
      list.push(await rate(() => c.verify(), c.async, ROUND_MS))
      remoteRates.set(c.name, list)
    }
  }
  server.closeAllConnections()
  server.close()
  const best = Math.max(median(remoteRates.get('jose createRemoteJWKSet')), median(remoteRates.get('jwks-rsa + jsonwebtoken')))
  const remoteRows = contenders.map((c) => {
    const r = median(remoteRates.get(c.name))
    return `| RS256 | verify via JWKS URL | ${c.name} | ${Math.round(r).toLocaleString('en-US')} | ${(1e6 / r).toFixed(2)} | ${(r / best).toFixed(2)} |`
  })
  // Printed and saved to bench-results/ only: the README has no section for this table (see docs/jwks.md).
  publishTableOnly(
    'jwt-jwks',
    [
      `Measured ${machine()}; jose ${version('jose')}, jwks-rsa ${version('jwks-rsa')}, jsonwebtoken ${version('jsonwebtoken')}; one RS256 key from a local JWKS server (${fetches} fetches in all), keys cached, no token cache; ${ROUNDS} interleaved round(s) of ${ROUND_MS} ms, median.`,
      '',
      '| alg | op | implementation | ops/s | µs/op | speed vs fastest peer |',
      '| --- | --- | --- | ---: | ---: | ---: |',
      ...remoteRows,
    ].join('\n'),
    [
      { label: 'JWT RS256 verify via JWKS (sync)', ratio: median(remoteRates.get('rampart RemoteJwks (verify, sync)')) / best },
      { label: 'JWT RS256 verify via JWKS (verifyAsync)', ratio: median(remoteRates.get('rampart RemoteJwks (verifyAsync)')) / best },
    ],
  )
}
