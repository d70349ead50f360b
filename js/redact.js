'use strict'
// Redactor#redact on its fast path: JSON.stringify and JSON.parse run here, in V8, around one
// native redactJson pass (walking an object through N-API would cost more than the redaction).
// Types: ../index.d.ts describes the same API.

/** @param {typeof import('../index.js').Redactor} NativeRedactor */
function wrap(NativeRedactor) {
  class Redactor extends NativeRedactor {
    /** @see NativeRedactor#redact */
    redact(value) {
      const json = JSON.stringify(value)
      return json === undefined ? undefined : JSON.parse(this.redactJson(json))
    }
  }
  return Redactor
}

module.exports = { wrap }
