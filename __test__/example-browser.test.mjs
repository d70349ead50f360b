// The example's sign-in page in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): register, sign in, enrol an authenticator (the key read from the page, codes
// computed here as the app on a phone would), sign out, sign in again with a code, refresh the
// session through the HttpOnly cookie and a CSRF token. Screenshots go to test-output/.
// Chromium missing is a failure, not a skip: .ci/run installs it.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'
import { Totp } from 'rampart'

const require = createRequire(import.meta.url)
const { createApp } = require('../examples/express-api/app.js')
const { openDatabase } = require('../examples/express-api/db.js')
const { loadSecrets } = require('../examples/express-api/secrets.js')

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const OUTPUT = process.env.TEST_OUTPUT_DIR ?? fileURLToPath(new URL('../test-output/', import.meta.url))
const PASSWORD = 'PLANTED-browser-password-1'
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-example-browser-'))
const logLines = []
const logStream = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(chunk.toString())
    done()
  },
})

let server
let db
let closeApp
let browser
let origin

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`)
  mkdirSync(OUTPUT, { recursive: true })
  db = await openDatabase(join(dataDir, 'app.sqlite'))
  const created = await createApp({ db, secrets: loadSecrets(dataDir, {}), logStream, corsOrigins: [] })
  closeApp = created.close
  server = created.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  // "localhost", not 127.0.0.1: browsers treat it as a secure context, so the Secure
  // __Host- cookies work over plain HTTP in this test.
  origin = `http://localhost:${server.address().port}`
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
})

after(async () => {
  await browser?.close()
  server?.close()
  closeApp?.()
  db?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

test('enrol an authenticator and sign in with a code, in headless Chromium', async () => {
  const page = await browser.newPage()
  const failures = []
  page.on('pageerror', (error) => failures.push(error.message))
  // Console errors except the browser's own notes on non-2xx responses (the favicon's 404, the
  // 401 of the replayed code, which the page handles).
  page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && failures.push(message.text()))
  const status = () => page.locator('#status').textContent()
  try {
    await page.goto(`${origin}/mfa.html`)
    await page.fill('#register-email', 'ivy@example.com')
    await page.fill('#register-password', PASSWORD)
    await page.click('#register')
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Account created'))

    await page.fill('#login-email', 'ivy@example.com')
    await page.fill('#login-password', PASSWORD)
    await page.click('#login')
    await page.waitForSelector('#signed-in:not([hidden])')
    assert.equal(await page.locator('#me-email').textContent(), 'ivy@example.com')

    await page.click('#enroll')
    await page.waitForSelector('#enrolment:not([hidden])')
    assert.equal(await page.locator('#qr svg').count(), 1, 'the QR code is on the page')
    const shown = await page.locator('#secret').textContent()
    assert.match(shown, /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/)
    await page.screenshot({ path: join(OUTPUT, 'mfa-qr.png'), fullPage: true })
    // The phone: the key as typed from the screen (spaces and all).
    const phone = new Totp({ secret: shown })
    const enrolledAt = Math.floor(Date.now() / 1000)
    await page.fill('#enable-code', phone.generate({ time: enrolledAt }))
    await page.click('#enable')
    await page.waitForSelector('#recovery:not([hidden])')
    assert.equal(await page.locator('#recovery-codes li').count(), 10)
    assert.equal(await page.locator('#mfa-state').textContent(), 'on')
    await page.screenshot({ path: join(OUTPUT, 'mfa-enrolled.png'), fullPage: true })

    await page.click('#logout')
    await page.waitForSelector('#signed-out:not([hidden])')
    await page.fill('#login-email', 'ivy@example.com')
    await page.fill('#login-password', PASSWORD)
    await page.click('#login')
    await page.waitForSelector('#mfa-form:not([hidden])')
    // The enrolment code was spent (replay refused); the next step's code signs in.
    await page.fill('#mfa-code', phone.generate({ time: enrolledAt }))
    await page.click('#mfa-submit')
    await page.waitForFunction(() => document.getElementById('status').textContent === 'Wrong code')
    await page.fill('#mfa-code', phone.generate({ time: enrolledAt + 30 }))
    await page.click('#mfa-submit')
    await page.waitForSelector('#signed-in:not([hidden])')
    assert.equal(await status(), 'Signed in with two-factor authentication')

    // The refresh cookie is HttpOnly: the page cannot read it, but the browser sends it, and the
    // CSRF token (same origin, Sec-Fetch-Site and Origin set by Chromium) lets it through.
    assert.equal(await page.evaluate(() => document.cookie), '')
    await page.click('#refresh')
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Session refreshed') || document.getElementById('status').textContent.startsWith('Refresh refused'))
    assert.equal(await status(), 'Session refreshed')
    await page.screenshot({ path: join(OUTPUT, 'mfa-signed-in.png'), fullPage: true })
    assert.ok(statSync(join(OUTPUT, 'mfa-signed-in.png')).size > 1000)
    assert.deepEqual(failures, [])
  } finally {
    await page.close()
  }
})

test('a cross-site form post to the refresh route is refused by the browser-sent metadata', async () => {
  // An attacker's page on another site posts a form to the refresh route: Chromium marks the
  // request Sec-Fetch-Site: cross-site (and leaves out the SameSite=Strict cookie), csrf() refuses.
  const context = await browser.newContext()
  const page = await context.newPage()
  try {
    await page.goto(`${origin}/mfa.html`)
    await page.fill('#register-email', 'jay@example.com')
    await page.fill('#register-password', PASSWORD)
    await page.click('#register')
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Account created'))
    await page.fill('#login-email', 'jay@example.com')
    await page.fill('#login-password', PASSWORD)
    await page.click('#login')
    await page.waitForSelector('#signed-in:not([hidden])')
    // The attacker's page, served for a host of its own (intercepted: nothing leaves the machine).
    await context.route('http://attacker.test/**', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form method="POST" action="${origin}/auth/refresh-cookie"><input name="x" value="1"></form><script>document.forms[0].submit()</script>`,
      }),
    )
    const response = page.waitForResponse((res) => res.url().endsWith('/auth/refresh-cookie'))
    await page.goto('http://attacker.test/')
    const res = await response
    assert.equal(res.status(), 403)
    const body = await res.json()
    // Only a Sec-Fetch-Site: cross-site header gives this code (a foreign Origin alone would be
    // ERR_CSRF_ORIGIN): Chromium's own metadata stopped the request.
    assert.equal(body.code, 'ERR_CSRF_CROSS_SITE')
  } finally {
    await context.close()
  }
})
