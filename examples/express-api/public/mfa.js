'use strict'
// The example's sign-in page: register, sign in (with the code step when two-factor is on),
// enrol an authenticator app, and refresh the session from the HttpOnly refresh cookie with a
// CSRF token. The access token lives in this page's memory only.

let accessToken = null
let mfaToken = null

const $ = (id) => document.getElementById(id)

function say(text) {
  $('status').textContent = text
}

async function api(method, path, body, headers = {}) {
  const all = { ...headers }
  if (body !== undefined) all['content-type'] = 'application/json'
  if (accessToken) all.authorization = `Bearer ${accessToken}`
  const res = await fetch(path, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' })
  const data = await res.json().catch(() => ({}))
  return { ok: res.ok, status: res.status, data }
}

async function showSignedIn() {
  const me = await api('GET', '/me')
  if (!me.ok) return say('Could not load the profile')
  $('me-email').textContent = me.data.email
  $('signed-out').hidden = true
  $('mfa-form').hidden = true
  $('signed-in').hidden = false
}

$('register-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const res = await api('POST', '/auth/register', { email: $('register-email').value, password: $('register-password').value })
  say(res.ok ? 'Account created: sign in' : `Not created: ${res.data.error}`)
})

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const res = await api('POST', '/auth/login', { email: $('login-email').value, password: $('login-password').value })
  if (!res.ok) return say(`Not signed in: ${res.data.error}`)
  if (res.data.mfaRequired) {
    mfaToken = res.data.mfaToken
    $('mfa-form').hidden = false
    $('mfa-code').focus()
    return say('Enter the code from your authenticator app')
  }
  accessToken = res.data.accessToken
  say('Signed in')
  await showSignedIn()
})

$('mfa-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const recoveryCode = $('recovery-code').value.trim()
  const body = recoveryCode ? { mfaToken, recoveryCode } : { mfaToken, code: $('mfa-code').value }
  const res = await api('POST', '/auth/mfa', body)
  if (!res.ok) return say(res.status === 429 ? 'Too many wrong codes: wait a few minutes' : 'Wrong code')
  accessToken = res.data.accessToken
  mfaToken = null
  $('mfa-state').textContent = 'on'
  say('Signed in with two-factor authentication')
  await showSignedIn()
})

$('enroll').addEventListener('click', async () => {
  const res = await api('POST', '/mfa/enroll')
  if (!res.ok) return say(res.data.error ?? 'Could not start')
  $('qr').innerHTML = res.data.qrSvg // an SVG document made by the server (no user text in it but the email, encoded)
  $('secret').textContent = res.data.secret.replace(/(.{4})/g, '$1 ').trim()
  $('enrolment').hidden = false
  say('Scan the code, then confirm with the first code the app shows')
})

$('enable-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const res = await api('POST', '/mfa/enable', { code: $('enable-code').value })
  if (!res.ok) return say('Wrong code: try the next one')
  $('enrolment').hidden = true
  $('mfa-state').textContent = 'on'
  $('enroll').hidden = true
  const list = $('recovery-codes')
  list.replaceChildren(...res.data.recoveryCodes.map((code) => Object.assign(document.createElement('li'), { textContent: code })))
  $('recovery').hidden = false
  say('Two-factor authentication is on')
})

$('refresh').addEventListener('click', async () => {
  const csrf = await api('GET', '/auth/csrf')
  if (!csrf.ok) return say('No session cookie')
  const res = await api('POST', '/auth/refresh-cookie', undefined, { 'x-csrf-token': csrf.data.csrfToken })
  if (!res.ok) return say(`Refresh refused: ${res.data.code ?? res.data.error}`)
  accessToken = res.data.accessToken
  say('Session refreshed')
})

$('logout').addEventListener('click', async () => {
  const csrf = await api('GET', '/auth/csrf')
  if (csrf.ok) await api('POST', '/auth/logout', undefined, { 'x-csrf-token': csrf.data.csrfToken })
  accessToken = null
  $('signed-in').hidden = true
  $('recovery').hidden = true
  $('signed-out').hidden = false
  say('Signed out')
})
