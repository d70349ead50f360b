// The hashing pool under load: bounded, fail-fast, cancellable, and off libuv's threadpool.
import assert from 'node:assert/strict'
import dns from 'node:dns'
import { getEventListeners } from 'node:events'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'

import { configurePasswordPool, hashPassword, passwordPoolStats, verifyPassword } from 'rampart'

const DEFAULTS = passwordPoolStats()
// Slow enough that a batch of 64 keeps both cores busy for a second or more.
const SLOW = { memoryCost: 32768, timeCost: 4 }

function restoreDefaults() {
  configurePasswordPool({ threads: DEFAULTS.threads, maxQueue: DEFAULTS.maxQueue })
}

test('defaults: one thread per core, a bounded queue', () => {
  assert.ok(DEFAULTS.threads >= 1)
  assert.equal(DEFAULTS.maxQueue, 64 * DEFAULTS.threads)
})

test('200 concurrent hashes all resolve or reject with ERR_BUSY; none is lost', async () => {
  const before = passwordPoolStats()
  const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => hashPassword(`pw-${i}`)))
  const ok = results.filter((r) => r.status === 'fulfilled')
  const busy = results.filter((r) => r.status === 'rejected')
  for (const r of ok) assert.match(r.value, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  for (const r of busy) assert.equal(r.reason.code, 'ERR_BUSY')
  assert.equal(ok.length + busy.length, 200)
  assert.ok(ok.length >= Math.min(200, DEFAULTS.threads + DEFAULTS.maxQueue))
  const after = passwordPoolStats()
  assert.equal(after.rejected - before.rejected, busy.length)
  assert.equal(after.completed - before.completed, ok.length)
  // Every fulfilled hash is a real hash of its own password.
  const index = results.findIndex((r) => r.status === 'fulfilled')
  assert.equal(await verifyPassword(results[index].value, `pw-${index}`), true)
})

test('a full queue rejects at once with ERR_BUSY and recovers', async () => {
  configurePasswordPool({ threads: 1, maxQueue: 3 })
  try {
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => hashPassword('pw', SLOW)))
    const ok = results.filter((r) => r.status === 'fulfilled').length
    const busy = results.filter((r) => r.status === 'rejected' && r.reason.code === 'ERR_BUSY').length
    assert.equal(ok, 4, 'one running plus three waiting')
    assert.equal(busy, 16)
    const rejection = results.find((r) => r.status === 'rejected').reason
    assert.ok(rejection instanceof Error)
    assert.match(rejection.message, /try again/)
    assert.match(await hashPassword('again'), /^\$argon2id\$/)
  } finally {
    restoreDefaults()
  }
})

test('fs, dns and timers keep running while 64 slow hashes are queued', async () => {
  let pending = 64
  const batch = Array.from({ length: 64 }, () => hashPassword('pw', SLOW).finally(() => pending--))
  let ticks = 0
  let last = performance.now()
  let worstGap = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worstGap = Math.max(worstGap, now - last)
    last = now
    ticks++
  }, 5)
  try {
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.ok(passwordPoolStats().queued > 0, 'hashes are queued')
    const fileStart = performance.now()
    await readFile(new URL(import.meta.url))
    const fileMs = performance.now() - fileStart
    const pendingAfterFile = pending
    const dnsStart = performance.now()
    await dns.promises.lookup('localhost')
    const dnsMs = performance.now() - dnsStart
    const pendingAfterDns = pending
    // libuv's pool is free: both finish while nearly the whole batch is still waiting.
    assert.ok(pendingAfterFile > 48, `readFile waited for ${64 - pendingAfterFile} hashes (${fileMs.toFixed(1)} ms)`)
    assert.ok(pendingAfterDns > 48, `dns.lookup waited for ${64 - pendingAfterDns} hashes (${dnsMs.toFixed(1)} ms)`)
    await Promise.all(batch)
    const elapsed = performance.now() - fileStart
    assert.ok(ticks >= elapsed / 5 / 4, `only ${ticks} timer ticks in ${elapsed.toFixed(0)} ms`)
    assert.ok(worstGap < 250, `the event loop stalled for ${worstGap.toFixed(0)} ms`)
  } finally {
    clearInterval(timer)
    await Promise.allSettled(batch)
  }
})

test('an already-aborted signal rejects with AbortError and does no work', async () => {
  const controller = new AbortController()
  const reason = new Error('client went away')
  controller.abort(reason)
  const before = passwordPoolStats().completed
  for (const call of [() => hashPassword('pw', { signal: controller.signal }), () => verifyPassword('$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', 'pw', { signal: controller.signal })]) {
    await assert.rejects(call(), (error) => {
      assert.equal(error.name, 'AbortError')
      assert.equal(error.code, 'ABORT_ERR')
      assert.equal(error.cause, reason)
      return true
    })
  }
  assert.equal(passwordPoolStats().completed, before)
  await assert.rejects(hashPassword('pw', { signal: AbortSignal.abort() }), { name: 'AbortError' })
})

test('aborting a queued call rejects it at once and skips its work', async () => {
  configurePasswordPool({ threads: 1, maxQueue: 16 })
  try {
    const blockers = Array.from({ length: 4 }, () => hashPassword('pw', SLOW))
    const controller = new AbortController()
    const victim = hashPassword('pw', { signal: controller.signal })
    let blockersDone = false
    Promise.all(blockers).then(() => (blockersDone = true))
    await new Promise((resolve) => setTimeout(resolve, 5))
    controller.abort()
    await assert.rejects(victim, { name: 'AbortError', code: 'ABORT_ERR' })
    assert.equal(blockersDone, false, 'the abort did not wait for the queue')
    await Promise.all(blockers)
  } finally {
    restoreDefaults()
  }
})

test('a signal that never fires is released when the call settles', async () => {
  const controller = new AbortController()
  const hashes = await Promise.all(Array.from({ length: 20 }, () => hashPassword('pw', { memoryCost: 64, timeCost: 1, signal: controller.signal })))
  assert.equal(await verifyPassword(hashes[0], 'pw', { signal: controller.signal }), true)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
  // Aborting afterwards changes nothing for settled calls.
  controller.abort()
})

test('worker threads share the one process-wide pool and hash interchangeably', async () => {
  const before = passwordPoolStats().completed
  const source = `
    const { parentPort } = require('node:worker_threads')
    const { hashPassword, verifyPassword } = require('rampart')
    ;(async () => {
      const hash = await hashPassword('from a worker')
      parentPort.postMessage({ hash, ok: await verifyPassword(hash, 'from a worker') })
    })()
  `
  const results = await Promise.all(
    [1, 2, 3].map(
      () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(source, { eval: true })
          worker.once('message', resolve)
          worker.once('error', reject)
        }),
    ),
  )
  for (const { hash, ok } of results) {
    assert.equal(ok, true)
    assert.equal(await verifyPassword(hash, 'from a worker'), true)
  }
  assert.ok(passwordPoolStats().completed - before >= 6, 'workers used the same pool')
})
