'use strict'
// Redactor#redact on its fast path: JSON.stringify and JSON.parse run here, in V8, around one
// native redactJson pass (walking an object through N-API would cost more than the redaction).
// Values JSON.stringify cannot write (a cycle, a BigInt, a getter or toJSON that throws) go
// through `safeJson`, which censors just those parts. Types: ../index.d.ts describes the same API.

const MAX_DEPTH = 1000
/** Arrays longer than this are censored whole by the hand walk (a sparse array of length 2^32-1
 * would otherwise be walked index by index and copied into a dense one). */
const MAX_ARRAY = 100_000

/**
 * JSON text for `value`, like JSON.stringify, except that a part that cannot be serialized (a
 * cycle, a BigInt, a getter, `toJSON` or proxy trap that throws, nesting deeper than 1000) becomes
 * `censor` instead of making the whole call throw. Returns undefined where JSON.stringify does.
 * @param {unknown} value
 * @param {string} censor
 * @returns {string | undefined}
 */
function safeJson(value, censor) {
  try {
    return JSON.stringify(value)
  } catch {
    // Rare: walk the value by hand, censoring only what fails.
  }
  try {
    return JSON.stringify(safeCopy(value, censor, [], ''))
  } catch {
    return JSON.stringify(censor)
  }
}

/** A JSON-safe copy of `value` (what JSON.stringify would see), with unserializable parts censored. */
function safeCopy(value, censor, ancestors, key) {
  try {
    if (value !== null && (typeof value === 'object' || typeof value === 'bigint') && typeof value.toJSON === 'function') {
      value = value.toJSON(key)
    }
  } catch {
    return censor
  }
  if (typeof value === 'bigint') return censor
  if (value === null || typeof value !== 'object') {
    // Numbers, strings, booleans as they are; undefined, functions and symbols as JSON drops them.
    return typeof value === 'number' && !Number.isFinite(value) ? null : value
  }
  if (ancestors.includes(value) || ancestors.length >= MAX_DEPTH) return censor
  ancestors.push(value)
  try {
    if (Array.isArray(value)) {
      if (value.length > MAX_ARRAY) return censor
      const out = []
      for (let i = 0; i < value.length; i++) {
        let item
        try {
          item = safeCopy(value[i], censor, ancestors, String(i))
        } catch {
          item = censor
        }
        out.push(item === undefined || typeof item === 'function' || typeof item === 'symbol' ? null : item)
      }
      return out
    }
    if (value instanceof Boolean || value instanceof Number || value instanceof String) return value.valueOf()
    const out = {}
    for (const name of Object.keys(value)) {
      let item
      try {
        item = safeCopy(value[name], censor, ancestors, name)
      } catch {
        item = censor
      }
      if (item !== undefined && typeof item !== 'function' && typeof item !== 'symbol') {
        // defineProperty: a "__proto__" member is data, not the copy's prototype.
        Object.defineProperty(out, name, { value: item, enumerable: true, writable: true, configurable: true })
      }
    }
    return out
  } catch {
    // Object.keys on a proxy whose ownKeys trap throws, and the like.
    return censor
  } finally {
    ancestors.pop()
  }
}

/**
 * @param {typeof import('../index.js').Redactor} NativeRedactor
 * @param {boolean} bound whether the addon's bound functions can be used (native builds; see
 *   src/bound.rs: they skip the cost of a class-method call, more than redacting a short line)
 */
function wrap(NativeRedactor, bound) {
  class Redactor extends NativeRedactor {
    #json
    #text

    constructor(options) {
      super(options)
      if (bound) [this.#json, this.#text] = this._bound()
    }

    /** @see NativeRedactor#redactJson */
    redactJson(json) {
      return this.#json === undefined ? super.redactJson(json) : this.#json(json)
    }

    /** @see NativeRedactor#redactText */
    redactText(text) {
      return this.#text === undefined ? super.redactText(text) : this.#text(text)
    }

    /** @see NativeRedactor#redact */
    redact(value) {
      const json = safeJson(value, censorOf(this))
      return json === undefined ? undefined : JSON.parse(this.redactJson(json))
    }
  }
  return Redactor
}

const censors = new WeakMap()

/**
 * What an unreadable value becomes for `redactor`: its censor text (with `pseudonymKey`, the
 * pseudonym of the empty string). Used for fields that cannot be serialized.
 * @returns {string}
 */
function censorOf(redactor) {
  let text = censors.get(redactor)
  if (text === undefined) {
    text = JSON.parse(redactor.redactJson(''))
    censors.set(redactor, text)
  }
  return text
}

module.exports = { wrap, safeJson, censorOf }
