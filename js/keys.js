'use strict'
// Key separation: one master secret, one HKDF-SHA-256 subkey per purpose (RFC 5869), so the
// CSRF HMAC key, the recovery-code hashing key and any other key never share material. The
// master secret must not be the JWT key or a Keyring key: give each its own.

const { hkdfSync } = require('node:crypto')

const MIN_MASTER = 32
const PURPOSE = /^[a-z0-9][a-z0-9.:_-]{0,63}$/

function coded(ErrorType, code, message) {
  const error = new ErrorType(message)
  error.code = code
  return error
}

/** The master secret as bytes: a Buffer/Uint8Array, or hex (even length, all hex digits) or base64/base64url text; 32 bytes or more. */
function masterBytes(master, name = 'secret') {
  let bytes
  if (master instanceof Uint8Array) bytes = master
  else if (typeof master === 'string') {
    if (/^[0-9a-fA-F]+$/.test(master) && master.length % 2 === 0) bytes = Buffer.from(master, 'hex')
    else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(master)) bytes = Buffer.from(master, 'base64')
    else throw coded(TypeError, 'ERR_INVALID_ARG_VALUE', `The "${name}" argument must be hex or base64 text`)
  } else {
    throw coded(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type string or an instance of Buffer or Uint8Array`)
  }
  if (bytes.length < MIN_MASTER || bytes.length > 1024) {
    throw coded(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${MIN_MASTER} to 1024 bytes (e.g. crypto.randomBytes(32))`)
  }
  return bytes
}

/**
 * A 32-byte subkey of `master` for `purpose` ('csrf', 'recovery-codes', ...): HKDF-SHA-256 with
 * info `rampart:<purpose>`. The same master and purpose always give the same key.
 * @param {string | Uint8Array} master
 * @param {string} purpose
 * @returns {Buffer}
 */
function deriveKey(master, purpose) {
  const bytes = masterBytes(master, 'master')
  if (typeof purpose !== 'string' || !PURPOSE.test(purpose)) {
    throw coded(TypeError, 'ERR_INVALID_ARG_VALUE', 'The "purpose" argument must be 1 to 64 characters of a-z 0-9 . : _ -')
  }
  return Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), `rampart:${purpose}`, 32))
}

module.exports = { deriveKey, masterBytes, coded }
