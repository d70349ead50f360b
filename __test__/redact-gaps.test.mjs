// Issue 14 (and the Redactor parts of issue 13): each gap a new user found, as a test that
// failed before the fix, and the secret shapes users paste into logs, each with a positive case
// and a near-miss that must be left alone.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { Redactor } from 'rampart'

const R = '[REDACTED]'
const redactor = new Redactor()
const root = fileURLToPath(new URL('..', import.meta.url))

/** Runs `code` (an ES module importing 'rampart') in a child process with a time limit. */
function child(code, timeout = 60_000) {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout })
  assert.equal(result.error?.code, undefined, `child process: ${result.error?.code} ${result.stderr}`)
  assert.equal(result.status, 0, result.stderr)
  return result.stdout
}

const text = (s) => redactor.redactText(s)

test('a card number at the end of a sentence is redacted', () => {
  assert.equal(text('charged 4111 1111 1111 1111.'), `charged ${R}.`)
  assert.equal(text('card 4111111111111111. Thanks'), `card ${R}. Thanks`)
  // Still not a card: a decimal.
  assert.equal(text('ratio 3.4111111111111111'), 'ratio 3.4111111111111111')
  assert.equal(text('v 4111111111111111.5'), 'v 4111111111111111.5')
})

test('quoted values are redacted to their closing quote', () => {
  assert.equal(text('password="correct horse battery staple" user=ann'), `password="${R}" user=ann`)
  assert.equal(text("secret='a b c' ok"), `secret='${R}' ok`)
  assert.equal(text('token="abc;def" x'), `token="${R}" x`)
  assert.equal(text('token="abc&def" x'), `token="${R}" x`)
  assert.equal(text('api_key="abc,def" x'), `api_key="${R}" x`)
  for (const s of ['horse', 'battery', 'staple', 'def']) {
    assert.ok(!text('password="correct horse battery staple" token="abc;def"').includes(s))
  }
})

test('JWE tokens (five segments) are redacted', () => {
  const jwe =
    'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji.XFBoMYUZodetZdvTiFvSkQ'
  assert.equal(text(`token ${jwe} end`), `token ${R} end`)
  const dir = 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rp.XFBoMYUZodetZdvTiFvSkQ'
  assert.equal(text(dir), R)
  assert.equal(redactor.redactJson(JSON.stringify({ t: jwe })), `{"t":"${R}"}`)
  // Near miss: a dotted version string.
  assert.equal(text('eyJ.1.2.3.4'), 'eyJ.1.2.3.4')
})

test('OAuth authorization codes in redirect URLs are redacted', () => {
  assert.equal(text('GET /callback?code=4/0AX4XfWh7s9kQ&state=xyz'), `GET /callback?code=${R}&state=xyz`)
  assert.equal(text('/cb?state=1&code=SplxlOBeZQQYbYS6WxSbIA'), `/cb?state=1&code=${R}`)
  // Near miss: a status code in prose.
  assert.equal(text('status code=404 returned'), 'status code=404 returned')
})

test('Google API keys are redacted', () => {
  const key = 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe'
  assert.equal(key.length, 39)
  assert.equal(text(`maps key ${key}`), `maps key ${R}`)
  assert.equal(text('AIzaShort-123'), 'AIzaShort-123')
})

test('pwd, pass, passphrase, pin, otp, ssn and auth keys are redacted by default', () => {
  const input = { pwd: 'a', pass: 'b', passphrase: 'c', pin: '1234', otp: '123456', ssn: '078-05-1120', auth: 'd', userPin: '9', x_auth: 'e' }
  const out = redactor.redact(input)
  for (const key of Object.keys(input)) assert.equal(out[key], R, key)
  // Whole words only: these stay.
  assert.deepEqual(redactor.redact({ spin: 1, author: 'ann', passive: true, compass: 'n', pinned: true }), {
    spin: 1,
    author: 'ann',
    passive: true,
    compass: 'n',
    pinned: true,
  })
})

test('Buffer values are not logged as readable bytes', () => {
  const out = redactor.redact({ body: Buffer.from('password=hunter2') })
  assert.deepEqual(out, { body: { type: 'Buffer', data: R } })
  const line = redactor.redactJson(JSON.stringify({ payload: Buffer.from('Authorization: Bearer abcdef123456') }))
  assert.ok(!line.includes('[65,117'), line)
  assert.equal(line, `{"payload":{"type":"Buffer","data":"${R}"}}`)
  // Near miss: an object that only looks a little like a Buffer keeps its data.
  assert.equal(redactor.redactJson('{"type":"Blob","data":[1,2]}'), '{"type":"Blob","data":[1,2]}')
  assert.equal(redactor.redactJson('{"type":"Buffer","data":[]}'), '{"type":"Buffer","data":[]}')
})

test('redact(): a BigInt, cycle, throwing getter or throwing toJSON censors only that field', () => {
  const cycle = { name: 'c' }
  cycle.self = cycle
  const getter = {
    get boom() {
      throw new Error('nope')
    },
  }
  const out = redactor.redact({
    password: 'hunter2',
    n: 10n,
    cycle,
    getter,
    bad: { toJSON: () => { throw new Error('x') } },
    loop: { toJSON: () => cycle },
    ok: 'kept',
  })
  assert.deepEqual(out, {
    password: R,
    n: R,
    cycle: { name: 'c', self: R },
    getter: { boom: R },
    bad: R,
    loop: { name: 'c', self: R },
    ok: 'kept',
  })
  assert.equal(redactor.redact(10n), R)
})

// [shape, positive (secret planted), the secret, near miss (must come out unchanged)]
const SHAPES = [
  ['AWS access key', 'aws AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE', 'aws AKIAIOSFODNN7EXAMPL'],
  ['Google API key', 'k=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', 'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', 'AIza is a prefix'],
  ['Slack bot token', 'xoxb-1234567890123-1234567890123-AbCdEfGhIjKl', 'xoxb-1234567890123-1234567890123-AbCdEfGhIjKl', 'xoxb-short'],
  ['Slack webhook', 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX', 'T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX', 'see hooks.slack.com/docs'],
  ['GitHub token', `ghp_${'a1B2c3D4e5'.repeat(3)}f6G7h8`, `ghp_${'a1B2c3D4e5'.repeat(3)}f6G7h8`, `ghp_${'a'.repeat(20)}`],
  ['GitHub fine-grained token', `github_pat_${'A1b2C3d4E5'.repeat(8)}x9`, `github_pat_${'A1b2C3d4E5'.repeat(8)}x9`, 'github_pat_short'],
  ['Stripe secret key', 'sk_live_51HxYzAbCdEfGhIjKlMnOp', 'sk_live_51HxYzAbCdEfGhIjKlMnOp', 'pk_live_51HxYzAbCdEfGhIjKlMnOp'],
  ['npm token', `npm_${'aB3dE6gH9j'.repeat(3)}kL2mN5`, `npm_${'aB3dE6gH9j'.repeat(3)}kL2mN5`, 'npm_install_failed'],
  [
    'private key block',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----',
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ',
    '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----',
  ],
  ['Postgres URL with password', 'postgres://app:s3cr3t@db:5432/app', 's3cr3t', 'postgres://db:5432/app'],
  ['MongoDB SRV URL with password', 'mongodb+srv://admin:Pa55w0rd@cluster0.mongodb.net/db', 'Pa55w0rd', 'mongodb+srv://cluster0.mongodb.net/db'],
  ['ADO connection string', 'Server=db;User Id=sa;Password=Hunter2!;Database=app', 'Hunter2!', 'Server=db;Integrated Security=true;Database=app'],
  ['Azure storage key', 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=bXlrZXk0NTY3ODk=;', 'bXlrZXk0NTY3ODk=', 'AccountName=x;EndpointSuffix=core.windows.net'],
  ['Authorization Bearer', 'Authorization: Bearer 8f3c2a1b9d7e6f5a', '8f3c2a1b9d7e6f5a', 'Bearer authentication is required'],
  ['Authorization other scheme', 'authorization: Token abc123def456', 'abc123def456', 'see the authorization docs'],
  ['Basic credentials', 'Authorization: Basic dXNlcjpodW50ZXIy', 'dXNlcjpodW50ZXIy', 'Basic auth is disabled'],
  ['Cookie header', 'Cookie: sid=s3ss10n; theme=dark', 's3ss10n', 'cookie policy accepted'],
  ['Set-Cookie header', 'Set-Cookie: session=abc123; HttpOnly; Secure', 'abc123', 'set-cookie is not sent'],
  ['basic auth in URL', 'https://ann:hunter2@example.com/x', 'hunter2', 'https://ann@example.com/x'],
]

test('secret shapes: each positive is redacted, each near miss is left alone', () => {
  for (const [shape, positive, secret, nearMiss] of SHAPES) {
    assert.ok(positive.includes(secret), shape)
    const out = text(positive)
    assert.ok(!out.includes(secret), `${shape}: ${out}`)
    assert.ok(out.includes(R), `${shape}: ${out}`)
    assert.equal(text(nearMiss), nearMiss, `${shape} near miss`)
    // The same inside a JSON log line.
    const line = redactor.redactJson(JSON.stringify({ msg: positive }))
    assert.ok(!line.includes(secret), `${shape} in JSON: ${line}`)
    assert.equal(redactor.redactJson(JSON.stringify({ msg: nearMiss })), JSON.stringify({ msg: nearMiss }), `${shape} near miss in JSON`)
  }
  // Schemes stay readable.
  assert.equal(text('Authorization: Bearer 8f3c2a1b9d7e6f5a'), `Authorization: Bearer ${R}`)
  assert.equal(text('authorization: Token abc123def456'), `authorization: Token ${R}`)
})

test('many ** segments match in linear time (was exponential)', () => {
  // 30 `**` steps between names, against 30- and 60-deep objects: exponential backtracking
  // never finished; the automaton answers at once.
  const out = child(`
    import { Redactor } from 'rampart'
    const path = '**.a.'.repeat(30) + 'x'
    const r = new Redactor({ paths: [path, '**.'.repeat(200) + 'ssn'], keys: [], patterns: [] })
    let deep = { x: 'secret' }
    for (let i = 0; i < 30; i++) deep = { a: deep }
    let miss = { y: 1 }
    for (let i = 0; i < 60; i++) miss = { a: miss }
    const line = r.redactJson(JSON.stringify({ deep, miss, k: { ssn: 'x' } }))
    console.log(line.includes('"x":"[REDACTED]"'), line.includes('"y":1'), line.includes('"ssn":"[REDACTED]"'))
  `)
  assert.equal(out.trim(), 'true true true')
})

test('limits: an over-long key, path or censor is a RangeError, quickly; one at the limit builds', () => {
  const out = child(`
    import { Redactor } from 'rampart'
    const codes = []
    for (const options of [
      { keys: ['k'.repeat(1 << 20)] },
      { keys: ['k'.repeat(257)] },
      { paths: ['a'.repeat(1025)] },
      { paths: [Array(64).fill('a').join('.')] },
      { censor: 'x'.repeat(257) },
      { keys: Array(1001).fill('ab') },
    ]) {
      try { new Redactor(options); codes.push('built') } catch (e) { codes.push(e.name + ':' + e.code) }
    }
    new Redactor({ keys: ['k'.repeat(256)] })
    new Redactor({ keys: Array.from({ length: 1000 }, (_, i) => i + 'ab'.repeat(126)) })
    new Redactor({ paths: [Array(63).fill('a').join('.')] })
    console.log(codes.join(' '))
  `)
  assert.equal(
    out.trim(),
    [
      'RangeError:ERR_OUT_OF_RANGE',
      'RangeError:ERR_OUT_OF_RANGE',
      'RangeError:ERR_OUT_OF_RANGE',
      'RangeError:ERR_OUT_OF_RANGE',
      'RangeError:ERR_OUT_OF_RANGE',
      'RangeError:ERR_OUT_OF_RANGE',
    ].join(' '),
  )
})

test('bad input: lone surrogates, a 10 MB line, 10,000-deep nesting: censored or redacted, never raw, no crash', () => {
  assert.equal(redactor.redactJson('{"a":"x\uD800y","password":"p"}'), `{"a":"x\uFFFDy","password":"${R}"}`)
  assert.equal(redactor.redactText('lone \uDC00 token=abc'), `lone \uFFFD token=${R}`)
  let deep = {}
  for (let i = 0; i < 10_000; i++) deep = { d: deep }
  assert.equal(redactor.redact(deep), R)
  assert.equal(redactor.redactJson(JSON.stringify({ msg: `password=hunter2 ${'x'.repeat(10 * 1024 * 1024)}` })), `"${R}"`)
  assert.equal(redactor.redactJson('{"msg":"café password=hunter2"}'), `{"msg":"café password=${R}"}`)
})
