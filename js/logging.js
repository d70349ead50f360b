'use strict'
// `rampart/logging`: one-line integrations of a Redactor with pino and winston. Both redact the
// final serialized line, so every field, nested value and message is covered, whatever
// serializers or formats produced it.

const { Redactor } = require('./index.js')

const MESSAGE = Symbol.for('message')

function redactorFrom(redactorOrOptions) {
  return redactorOrOptions instanceof Redactor ? redactorOrOptions : new Redactor(redactorOrOptions)
}

/**
 * pino hooks: `pino({ hooks: pinoRedaction(redactor) })`. Each line is redacted just before it is
 * written (pino's `hooks.streamWrite`), in one native pass.
 * @param {import('./logging').RedactorLike} [redactorOrOptions] a Redactor, or options for a new one
 */
function pinoRedaction(redactorOrOptions) {
  const redactor = redactorFrom(redactorOrOptions)
  return { streamWrite: (line) => redactor.redactJson(line) }
}

/**
 * A winston (logform) format: put it last, `format.combine(format.timestamp(), format.json(),
 * winstonRedaction(redactor))`. It redacts the finished line (`info[Symbol.for('message')]`,
 * as JSON or as text) and the `info` fields that transports read.
 * @param {import('./logging').RedactorLike} [redactorOrOptions]
 */
function winstonRedaction(redactorOrOptions) {
  const redactor = redactorFrom(redactorOrOptions)
  return {
    transform(info) {
      // `info` is winston's own object, but its values may be the caller's: replace, never mutate them.
      let fields
      try {
        fields = redactor.redact({ ...info })
      } catch {
        // Fields JSON cannot hold (a cycle, a BigInt) stay as they are; the finished line below
        // is still redacted, and that is what the transports write.
      }
      if (fields) for (const key of Object.keys(info)) info[key] = fields[key]
      const line = info[MESSAGE]
      if (typeof line === 'string') {
        info[MESSAGE] = /^\s*[[{"]/.test(line) ? redactor.redactJson(line) : redactor.redactText(line)
      }
      return info
    },
  }
}

module.exports = { pinoRedaction, winstonRedaction }
