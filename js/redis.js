'use strict'
// `rampart/redis`: RedisRateLimiter, the native RateLimiter's semantics kept in Redis so that every
// process and machine shares one count, over the application's own ioredis or node-redis client
// (no Redis client is a dependency of rampart). See docs/redis.md.
//
// - Every operation is one atomic Lua script (./ratelimit.lua) on the server's clock, which sets
//   the key's TTL in the same call: no key is ever left without one.
// - Calls made in the same tick are batched into one script call per hash slot (each key carries
//   a hash tag, so this also works on Redis Cluster).
// - A key Redis has denied is denied locally, with no round trip, until its retry time (for
//   calls of the same cost, so that the reported retry time stays exact).
// - Redis errors, timeouts (`timeoutMs`) and garbage replies follow `onStoreError`; an outage is
//   reported once (the 'outage' event, or one process warning), and while Redis is down one
//   probe call every PROBE_MS finds out when it is back.

const events = require('./events.js')
const { argType, argValue, clientKind, coded, evalScript, integer, isCluster, isReady, luaScript, outOfRange, redisError } = require('./redis-client.js')
const { EventEmitter } = require('node:events')
const { readFileSync } = require('node:fs')
const { join } = require('node:path')

const SCRIPT = readFileSync(join(__dirname, 'ratelimit.lua'), 'utf8')
const LUA = luaScript(SCRIPT)
const ALGORITHMS = { gcra: 'g', 'fixed-window': 'f', 'sliding-window': 's' }
const POLICIES = new Set(['fail-open', 'fail-closed', 'local'])
const MAX_KEY_BYTES = 1024
const MAX_U32 = 0xffffffff
/**
 * The hits queued in one tick are sent as at least two script calls when there are more than
 * MIN_SPLIT of them and no call is in flight, at most MAX_BATCH keys each. One call per tick made
 * Node and Redis take turns (Redis idle while Node handles a batch's answers, Node idle while
 * Redis runs the next batch); two calls in flight let each work while the other does. Measured
 * 2026-12-05 with 64 hits in flight: one call per tick ~100k hits/s; always two calls ~165k;
 * two calls only when none is in flight (so later ticks keep their batches whole) ~183k.
 */
const MAX_BATCH = 128
const MIN_SPLIT = 8

/** Sends `entries` as script calls of at most MAX_BATCH keys; two or more if `split` and there are many. */
function splitInto(entries, send, split) {
  const n = entries.length
  if (n <= MIN_SPLIT || !split) {
    for (let i = 0; i < n; i += MAX_BATCH) send(n <= MAX_BATCH ? entries : entries.slice(i, i + MAX_BATCH))
    return
  }
  const size = Math.min(MAX_BATCH, Math.ceil(n / 2))
  for (let i = 0; i < n; i += size) send(entries.slice(i, i + size))
}

/** While Redis is down, one call per this many ms goes to Redis to find out whether it is back. */
const PROBE_MS = 200
/** `retryAfterMs` of a denial made by the 'fail-closed' policy. */
const FAIL_CLOSED_RETRY_MS = 1000
const DEFAULT_CACHE_KEYS = 100_000

// CRC16/XMODEM, as Redis Cluster uses for hash slots.
const CRC16 = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1
  CRC16[i] = crc & 0xffff
}

/** The Redis Cluster hash slot of `key` (hash tags included). */
function slotOf(key) {
  let bytes = Buffer.from(key)
  const open = bytes.indexOf(0x7b)
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) bytes = bytes.subarray(open + 1, close)
  }
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ byte) & 0xff]
  return crc & 16383
}

/**
 * A rate limiter whose state lives in Redis (single server or Cluster), shared by every process
 * using the same `prefix`. Same algorithms and results as `RateLimiter`; every method returns a
 * promise that never rejects because of Redis (see `onStoreError`), only for bad arguments.
 */
class RedisRateLimiter extends EventEmitter {
  #client
  #kind
  #cluster
  #prefix
  #limit
  #windowMs
  #algorithm
  #head // the script arguments shared by every call: algorithm, limit, window (us)
  #timeoutMs
  #policy
  #maxKeys
  #local = undefined
  #denied = new Map()
  #cacheKeys
  #queue = []
  #scheduled = false
  #inFlight = 0 // script calls sent and not yet settled
  #down = false
  #lastProbe = 0
  #warned = false
  #wrongTypeReported = false
  #stats = { calls: 0, scriptCalls: 0, localDenials: 0, storeErrors: 0, outages: 0, fallbackAnswers: 0 }

  /** @param {import('./redis').RedisRateLimiterOptions} options */
  constructor(options) {
    super()
    if (options === null || typeof options !== 'object') throw argType('options', 'of type object', options)
    this.#kind = clientKind(options.client)
    this.#client = options.client
    this.#cluster = options.cluster ?? isCluster(this.#client, this.#kind)
    if (typeof this.#cluster !== 'boolean') throw argType('options.cluster', 'of type boolean', options.cluster)
    this.#limit = integer(options, 'limit', 1, MAX_U32)
    this.#windowMs = integer(options, 'windowMs', 1, MAX_U32)
    const algorithm = options.algorithm ?? 'gcra'
    if (!Object.hasOwn(ALGORITHMS, algorithm)) throw argValue('options.algorithm', "must be 'gcra', 'fixed-window' or 'sliding-window'")
    this.#algorithm = algorithm
    const prefix = options.prefix ?? 'rampart:'
    if (typeof prefix !== 'string') throw argType('options.prefix', 'of type string', prefix)
    if (prefix.length > 256) throw outOfRange('options.prefix', 'at most 256 characters long')
    if (/[{}]/.test(prefix)) throw argValue('options.prefix', 'must not contain "{" or "}" (rampart adds the hash tag itself)')
    this.#prefix = prefix
    this.#timeoutMs = integer(options, 'timeoutMs', 1, 60_000, 50)
    const policy = options.onStoreError ?? 'local'
    if (!POLICIES.has(policy)) throw argValue('options.onStoreError', "must be 'fail-open', 'fail-closed' or 'local'")
    this.#policy = policy
    this.#maxKeys = options.maxKeys === undefined ? undefined : integer(options, 'maxKeys', 1, MAX_U32)
    this.#cacheKeys = integer(options, 'localCacheKeys', 0, MAX_U32, DEFAULT_CACHE_KEYS)
    this.#head = [ALGORITHMS[algorithm], String(this.#limit), String(this.#windowMs * 1000)]
  }

  get limit() {
    return this.#limit
  }

  get windowMs() {
    return this.#windowMs
  }

  get algorithm() {
    return this.#algorithm
  }

  get prefix() {
    return this.#prefix
  }

  /** Spends `cost` units (default 1, at most `limit`) of `key`'s budget if available. */
  hit(key, cost) {
    return this.#call(key, cost, 'h')
  }

  /** What `hit` would answer, without spending anything. */
  peek(key, cost) {
    return this.#call(key, cost, 'p')
  }

  /** Gives back up to `cost` units (default 1) that an earlier hit spent in the current window. */
  refund(key, cost) {
    return this.#call(key, cost, 'r')
  }

  /** Forgets `key`; resolves whether Redis held it. */
  reset(key) {
    return this.#call(key, 0, 'x')
  }

  /** Counters for monitoring: calls, script calls sent, local denials, store errors, outages. */
  stats() {
    return { ...this.#stats, redisUp: !this.#down, cachedDenials: this.#denied.size }
  }

  #call(key, cost, op) {
    try {
      if (typeof key !== 'string') throw argType('key', 'of type string', key)
      if (key.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(key) > MAX_KEY_BYTES) throw outOfRange('key', `at most ${MAX_KEY_BYTES} bytes long`)
      if (cost === undefined) cost = 1
      else if (typeof cost !== 'number') throw argType('cost', 'of type number', cost)
      else if (!Number.isInteger(cost) || cost < 0 || cost > this.#limit) throw outOfRange('cost', `an integer >= 0 and <= ${this.#limit}`)
    } catch (error) {
      return Promise.reject(error)
    }
    this.#stats.calls++
    if (op === 'h' || op === 'p') {
      const cached = this.#denied.get(key)
      if (cached !== undefined) {
        const now = performance.now()
        if (now < cached.until && cost === cached.cost) {
          this.#stats.localDenials++
          return Promise.resolve({
            allowed: false,
            limit: this.#limit,
            remaining: cached.remaining,
            resetMs: Math.max(0, Math.ceil(cached.resetAt - now)),
            retryAfterMs: Math.ceil(cached.until - now),
          })
        }
        if (now >= cached.until) this.#denied.delete(key)
      }
    } else {
      this.#denied.delete(key)
    }
    if (this.#down) {
      const now = performance.now()
      // Answer by the policy at once, except for one probe call every PROBE_MS while the client
      // says it is connected (calls sent while it is not would wait in its offline queue).
      if (now - this.#lastProbe < PROBE_MS || !isReady(this.#client, this.#kind)) return Promise.resolve(this.#fallback(key, cost, op))
      this.#lastProbe = now
    }
    return new Promise((resolve) => {
      this.#queue.push({ key, cost, op, resolve })
      if (!this.#scheduled) {
        this.#scheduled = true
        queueMicrotask(() => this.#flush())
      }
    })
  }

  #flush() {
    this.#scheduled = false
    const queue = this.#queue
    this.#queue = []
    const send = (batch) => this.#send(batch)
    // Split only when nothing is in flight: otherwise Redis already has work, and larger calls
    // cost it less per key.
    const split = this.#inFlight === 0
    if (!this.#cluster) return splitInto(queue, send, split)
    const bySlot = new Map()
    for (const entry of queue) {
      const slot = slotOf(this.#prefix + '{' + entry.key + '}')
      const batch = bySlot.get(slot)
      if (batch === undefined) bySlot.set(slot, [entry])
      else batch.push(entry)
    }
    for (const batch of bySlot.values()) splitInto(batch, send, split)
  }

  #send(batch) {
    const keys = new Array(batch.length)
    const args = this.#head.slice()
    // One operation and cost for the whole call when every entry shares them (see ratelimit.lua).
    const { op, cost } = batch[0]
    let shared = true
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i]
      keys[i] = this.#prefix + '{' + entry.key + '}'
      shared &&= entry.op === op && entry.cost === cost
    }
    if (shared) args.push(op, String(cost))
    else for (const entry of batch) args.push(entry.op, String(entry.cost))
    const sentAt = performance.now()
    let settled = false
    const timer = setTimeout(() => {
      if (settled) return
      settled = true
      this.#inFlight--
      this.#failed(batch, coded(Error, 'ERR_RAMPART_REDIS_TIMEOUT', `Redis did not answer within ${this.#timeoutMs} ms`))
    }, this.#timeoutMs)
    timer.unref?.()
    this.#inFlight++
    const done = (reply) => {
      if (settled) return
      settled = true
      this.#inFlight--
      clearTimeout(timer)
      this.#answered(batch, reply, sentAt)
    }
    const fail = (error) => {
      if (settled) return
      settled = true
      this.#inFlight--
      clearTimeout(timer)
      this.#failed(batch, error)
    }
    this.#stats.scriptCalls++
    evalScript(this.#client, this.#kind, LUA, keys, args, true).then(done, (error) => {
      if (settled) return
      if (!/NOSCRIPT/.test(String(error?.message))) return fail(error)
      // After a restart or SCRIPT FLUSH (or on a Cluster node that never saw it): EVAL sends the
      // source, and the server caches it again for the next EVALSHA.
      this.#stats.scriptCalls++
      evalScript(this.#client, this.#kind, LUA, keys, args, false).then(done, fail)
    })
  }

  #answered(batch, reply, sentAt) {
    if (!Array.isArray(reply) || reply.length !== batch.length * 4 || !reply.every((n) => Number.isSafeInteger(Number(n)))) {
      this.#failed(batch, coded(Error, 'ERR_RAMPART_REDIS_REPLY', 'Redis answered the rate-limit script with something else than its result'))
      return
    }
    let wrongType = false
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i]
      const allowed = Number(reply[4 * i])
      if (allowed === -1) {
        wrongType = true
        entry.resolve(this.#fallback(entry.key, entry.cost, entry.op))
        continue
      }
      if (entry.op === 'r') {
        entry.resolve(undefined)
        continue
      }
      if (entry.op === 'x') {
        this.#denied.delete(entry.key)
        entry.resolve(allowed === 1)
        continue
      }
      const result = {
        allowed: allowed === 1,
        limit: this.#limit,
        remaining: Number(reply[4 * i + 1]),
        resetMs: Math.ceil(Number(reply[4 * i + 2]) / 1000),
        retryAfterMs: Math.ceil(Number(reply[4 * i + 3]) / 1000),
      }
      if (!result.allowed && this.#cacheKeys > 0) this.#cache(entry.key, entry.cost, result, sentAt)
      entry.resolve(result)
    }
    if (this.#down) {
      this.#down = false
      this.#warned = false
      this.#local?.clear()
      try {
        this.emit('recover')
      } catch {
        // A throwing listener must not turn into an unhandled rejection.
      }
    }
    if (wrongType && !this.#wrongTypeReported) {
      this.#wrongTypeReported = true
      this.#report(coded(Error, 'ERR_RAMPART_REDIS_REPLY', 'A rate-limit key in Redis holds a value of another type (is the prefix shared with other data?)'))
    }
  }

  /** Remembers a denial until its retry time, measured from when the call was sent (never later than Redis's). */
  #cache(key, cost, result, sentAt) {
    if (this.#denied.size >= this.#cacheKeys && !this.#denied.has(key)) {
      const now = performance.now()
      for (const [k, v] of this.#denied) if (v.until <= now) this.#denied.delete(k)
      if (this.#denied.size >= this.#cacheKeys) return
    }
    this.#denied.set(key, { until: sentAt + result.retryAfterMs, cost, remaining: result.remaining, resetAt: sentAt + result.resetMs })
  }

  #failed(batch, error) {
    this.#report(error)
    if (!this.#down) {
      this.#down = true
      this.#lastProbe = performance.now()
    }
    for (const entry of batch) entry.resolve(this.#fallback(entry.key, entry.cost, entry.op))
  }

  /** Counts a store error; the first one of an outage is reported. */
  #report(error) {
    this.#stats.storeErrors++
    if (this.#down) return
    this.#stats.outages++
    const wrapped = redisError(error)
    // Once per outage, like the 'outage' event. failOpen: whether calls are let through without
    // Redis ('fail-open', or 'local' where the in-process limiter decides).
    events.storeOutage({ store: 'ratelimit', operation: 'redis', failOpen: this.#policy !== 'fail-closed', error: wrapped })
    if (this.listenerCount('outage') > 0) {
      try {
        this.emit('outage', wrapped)
      } catch {
        // A throwing listener must not break the calls waiting on this answer.
      }
    } else if (!this.#warned) {
      this.#warned = true
      process.emitWarning(`rampart RedisRateLimiter: ${wrapped.message}; answering with onStoreError '${this.#policy}' until Redis is back`, {
        code: 'RAMPART_REDIS_OUTAGE',
      })
    }
  }

  /** The answer of the `onStoreError` policy. */
  #fallback(key, cost, op) {
    this.#stats.fallbackAnswers++
    if (this.#policy === 'local') {
      if (this.#local === undefined) {
        // Loaded here, not at the top: ./index.js itself loads this file.
        const { RateLimiter } = require('./index.js')
        this.#local = new RateLimiter({ limit: this.#limit, windowMs: this.#windowMs, algorithm: this.#algorithm, maxKeys: this.#maxKeys })
      }
      if (op === 'r') return this.#local.refund(key, cost)
      if (op === 'x') return this.#local.reset(key)
      return op === 'h' ? this.#local.hit(key, cost) : this.#local.peek(key, cost)
    }
    if (op === 'r') return undefined
    if (op === 'x') return false
    if (this.#policy === 'fail-open') {
      return { allowed: true, limit: this.#limit, remaining: this.#limit - cost, resetMs: 0, retryAfterMs: 0 }
    }
    return { allowed: false, limit: this.#limit, remaining: 0, resetMs: FAIL_CLOSED_RETRY_MS, retryAfterMs: FAIL_CLOSED_RETRY_MS }
  }
}

/**
 * An express-rate-limit store over Redis with rampart's script and outage policy:
 * `rateLimit({ store: new RampartRedisStore({ client }) })` from 'express-rate-limit'.
 */
class RampartRedisStore {
  #options
  /** @param {import('./redis').RampartRedisStoreOptions} options */
  constructor(options) {
    if (options === null || typeof options !== 'object') throw argType('options', 'of type object', options)
    clientKind(options.client)
    this.#options = options
    this.prefix = options.prefix ?? 'rampart:erl:'
    this.localKeys = false
    this.limiter = undefined
    this.windowMs = 60_000
  }

  init(options) {
    this.windowMs = options.windowMs ?? 60_000
    // Count without denying, in windows that start at a client's first hit, like
    // express-rate-limit's MemoryStore: the middleware compares totalHits with its own limit.
    this.limiter = new RedisRateLimiter({
      ...this.#options,
      prefix: this.prefix,
      limit: MAX_U32,
      windowMs: this.windowMs,
      algorithm: 'fixed-window',
      localCacheKeys: 0,
    })
  }

  #info(result) {
    return { totalHits: result.limit - result.remaining, resetTime: new Date(Date.now() + (result.resetMs || this.windowMs)) }
  }

  async get(key) {
    const result = await this.limiter.peek(key, 0)
    return result.remaining === result.limit ? undefined : this.#info(result)
  }

  async increment(key) {
    return this.#info(await this.limiter.hit(key))
  }

  async decrement(key) {
    await this.limiter.refund(key)
  }

  async resetKey(key) {
    await this.limiter.reset(key)
  }
}

module.exports = { RedisRateLimiter, RampartRedisStore, RedisTotpStepStore: require('./redis-totp.js').RedisTotpStepStore }
