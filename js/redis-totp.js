'use strict'
// RedisTotpStepStore: TotpGuard's last accepted step per account, kept in Redis so that a code
// accepted by one instance is refused by every other (RFC 6238 section 5.2: one use per code).
// Same client handling as RedisRateLimiter (./redis-client.js): the user's ioredis or node-redis
// client, one Lua script per call (compare-and-set with the TTL in the same call), a hash tag
// per key for Redis Cluster. A failed or late call rejects, and TotpGuard then refuses the login
// (fail closed): a replay check that cannot be made is not skipped.

const { argType, argValue, clientKind, coded, integer, luaScript, outOfRange, runScript } = require('./redis-client.js')

// GET, or compare-and-set: store ARGV[2] with a TTL of ARGV[3] ms only if it is after the step
// held. -1: no step held; -2: the key holds something that is not a step (refused, fail closed).
const SCRIPT = luaScript(`
local raw = redis.call('GET', KEYS[1])
local current = -1
if raw then
  current = tonumber(raw)
  if current == nil then return -2 end
end
if ARGV[1] == 'get' then return current end
if current >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

const MAX_ACCOUNT_BYTES = 1024
const MAX_STEP = Number.MAX_SAFE_INTEGER

function replyError() {
  return coded(Error, 'ERR_RAMPART_REDIS_REPLY', 'Redis answered the TOTP step script with something else than its result (is the prefix shared with other data?)')
}

function account(value) {
  if (typeof value !== 'string') throw argType('account', 'of type string', value)
  if (value.length === 0) throw argValue('account', 'must not be empty')
  if (Buffer.byteLength(value) > MAX_ACCOUNT_BYTES) throw outOfRange('account', `at most ${MAX_ACCOUNT_BYTES} bytes long`)
  return value
}

/**
 * The TotpStepStore interface over Redis: `get(account)` resolves to the last accepted step or
 * null, `advance(account, step, ttlMs)` stores `step` only if it is after the stored one and
 * resolves whether it did (atomically, in one script).
 */
class RedisTotpStepStore {
  #client
  #kind
  #prefix
  #timeoutMs

  /** @param {import('./redis').RedisTotpStepStoreOptions} options */
  constructor(options) {
    if (options === null || typeof options !== 'object') throw argType('options', 'of type object', options)
    this.#kind = clientKind(options.client)
    this.#client = options.client
    const prefix = options.prefix ?? 'rampart:totp:'
    if (typeof prefix !== 'string') throw argType('options.prefix', 'of type string', prefix)
    if (prefix.length > 256) throw outOfRange('options.prefix', 'at most 256 characters long')
    if (/[{}]/.test(prefix)) throw argValue('options.prefix', 'must not contain "{" or "}" (rampart adds the hash tag itself)')
    this.#prefix = prefix
    this.#timeoutMs = integer(options, 'timeoutMs', 1, 60_000, 500)
  }

  get prefix() {
    return this.#prefix
  }

  /** The last accepted step of `account`, or null. */
  async get(accountId) {
    const reply = Number(await this.#run(account(accountId), ['get']))
    if (reply === -1) return null
    if (!Number.isSafeInteger(reply) || reply < 0) throw replyError()
    return reply
  }

  /** Stores `step` (with a TTL of `ttlMs`) if it is after the stored step; resolves whether it did. */
  async advance(accountId, step, ttlMs) {
    const key = account(accountId)
    if (typeof step !== 'number') throw argType('step', 'of type number', step)
    if (!Number.isSafeInteger(step) || step < 0 || step > MAX_STEP) throw outOfRange('step', 'a non-negative safe integer')
    if (typeof ttlMs !== 'number') throw argType('ttlMs', 'of type number', ttlMs)
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw outOfRange('ttlMs', 'a positive integer')
    const reply = Number(await this.#run(key, ['advance', String(step), String(ttlMs)]))
    if (reply !== 0 && reply !== 1) throw replyError()
    return reply === 1
  }

  #run(key, args) {
    return runScript(this.#client, this.#kind, SCRIPT, [`${this.#prefix}{${key}}`], args, this.#timeoutMs)
  }
}

module.exports = { RedisTotpStepStore }
