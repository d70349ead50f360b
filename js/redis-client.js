'use strict'
// What every `rampart/redis` store needs from the user's Redis client: recognizing ioredis and
// node-redis by their API, running a Lua script (EVALSHA, then EVAL on NOSCRIPT), a time limit per
// call, and the argument errors of the package.

const { createHash } = require('node:crypto')

function coded(ErrorClass, code, message, cause) {
  const error = cause === undefined ? new ErrorClass(message) : new ErrorClass(message, { cause })
  error.code = code
  return error
}

function describe(value) {
  if (value === null) return 'null'
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`
  if (typeof value === 'object') return value.constructor?.name ? `an instance of ${value.constructor.name}` : 'an object'
  return `type ${typeof value}`
}

const argType = (name, expected, value) =>
  coded(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be ${expected}. Received ${describe(value)}`)
const argValue = (name, problem) => coded(TypeError, 'ERR_INVALID_ARG_VALUE', `The "${name}" argument ${problem}`)
const outOfRange = (name, rule) => coded(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${rule}`)

function integer(options, name, min, max, fallback) {
  const value = options[name]
  if (value === undefined) {
    if (fallback === undefined) throw argType(`options.${name}`, 'of type number', value)
    return fallback
  }
  if (typeof value !== 'number') throw argType(`options.${name}`, 'of type number', value)
  if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(`options.${name}`, `an integer >= ${min} and <= ${max}`)
  return value
}

/** Which client API `client` speaks, by duck typing: 'ioredis' or 'node-redis'. */
function clientKind(client) {
  if (client !== null && typeof client === 'object') {
    if (typeof client.evalSha === 'function' && typeof client.eval === 'function') return 'node-redis'
    if (typeof client.evalsha === 'function' && typeof client.eval === 'function') return 'ioredis'
  }
  throw argType('options.client', 'an ioredis client or cluster, or a node-redis (v4+) client or cluster', client)
}

function isCluster(client, kind) {
  return kind === 'ioredis' ? client.isCluster === true : typeof client.getSlotMaster === 'function'
}

/** The client has a live connection, as far as it knows (unknown counts as live). */
function isReady(client, kind) {
  if (kind === 'ioredis') return client.status === undefined || client.status === 'ready'
  return client.isReady !== false
}

/**
 * EVALSHA (`bySha`) or EVAL of `script` ({ source, sha }), as a promise (a client that throws
 * synchronously rejects it instead).
 */
function evalScript(client, kind, script, keys, args, bySha) {
  try {
    if (kind === 'ioredis') {
      return Promise.resolve(bySha ? client.evalsha(script.sha, keys.length, ...keys, ...args) : client.eval(script.source, keys.length, ...keys, ...args))
    }
    const options = { keys, arguments: args }
    return Promise.resolve(bySha ? client.evalSha(script.sha, options) : client.eval(script.source, options))
  } catch (error) {
    return Promise.reject(error)
  }
}

/** A script as evalScript takes it. */
function luaScript(source) {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

/** A Redis error as the stores report it: a coded Error, message cut short, cause kept. */
function redisError(error) {
  if (typeof error?.code === 'string' && error.code.startsWith('ERR_RAMPART_REDIS')) return error
  return coded(Error, 'ERR_RAMPART_REDIS', `Redis call failed: ${String(error?.message ?? error).slice(0, 200)}`, error)
}

/**
 * Runs `script` once: EVALSHA, then EVAL if the server does not have it (NOSCRIPT after a restart
 * or SCRIPT FLUSH). Rejects with a coded error after `timeoutMs` or on any Redis error.
 */
function runScript(client, kind, script, keys, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(coded(Error, 'ERR_RAMPART_REDIS_TIMEOUT', `Redis did not answer within ${timeoutMs} ms`)), timeoutMs)
    timer.unref?.()
    const fail = (error) => {
      clearTimeout(timer)
      reject(redisError(error))
    }
    const done = (reply) => {
      clearTimeout(timer)
      resolve(reply)
    }
    evalScript(client, kind, script, keys, args, true).then(done, (error) => {
      if (!/NOSCRIPT/.test(String(error?.message))) return fail(error)
      evalScript(client, kind, script, keys, args, false).then(done, fail)
    })
  })
}

module.exports = { argType, argValue, clientKind, coded, describe, evalScript, integer, isCluster, isReady, luaScript, outOfRange, redisError, runScript }
