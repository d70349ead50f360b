// Builds tokens by hand (node:crypto), so tests can sign exactly the bytes an attacker would.
import { createHmac, sign as cryptoSign } from 'node:crypto'

export const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** `header.payload.signature` with HMAC-SHA256 over the exact segments given. */
export function hs256(secret, header, payload) {
  const input = `${typeof header === 'string' ? header : b64(header)}.${typeof payload === 'string' ? payload : b64(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** RS256 with a node:crypto private key over the exact segments given. */
export function rs256(privateKey, header, payload) {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${cryptoSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
}

/** An assertion callback: the error has `code` (and `claim`, when given). */
export function code(expected, claim) {
  return (error) => {
    if (error.code !== expected) throw new Error(`expected ${expected}, got ${error.code}: ${error.message}`)
    if (claim !== undefined && error.claim !== claim) throw new Error(`expected claim ${claim}, got ${error.claim}`)
    return true
  }
}

export const FUTURE = () => Math.floor(Date.now() / 1000) + 600
