// Types for `rampart/logging` (hand-written; checked with `tsc --noEmit` in `npm test`).
import type { EventEmitter } from 'node:events'
import type { Writable } from 'node:stream'
import type { Redactor, RedactorOptions } from './index.js'

/** A Redactor, or the options to build one. */
export type RedactorLike = Redactor | RedactorOptions

/** pino hooks that redact every line before it is written: `pino({ hooks: pinoRedaction(redactor) })`. */
export declare function pinoRedaction(redactor?: RedactorLike): { streamWrite(line: string): string }

/** A winston/logform format that redacts every field, the splat metadata and the finished line; put it last. */
export declare function winstonRedaction(redactor?: RedactorLike): {
  transform(info: Record<string | symbol, unknown>): Record<string | symbol, unknown>
}

/** Options of the pino transport (`pino.transport({ target: 'rampart/logging', options })`). */
export interface PinoTransportOptions {
  /** A file descriptor (default 1, stdout) or a file path (appended to unless `append: false`). */
  destination?: number | string
  /** Create the file's directory. Default false. */
  mkdir?: boolean
  /** Append to the file (default) rather than truncate it. */
  append?: boolean
  /** Options for the worker's Redactor (a Redactor instance cannot cross to the worker thread). */
  redact?: RedactorOptions
}

/**
 * The pino transport itself (pino calls it in its worker thread when `target` is
 * `'rampart/logging'`): a stream that redacts each line and writes it to `destination`.
 */
export declare function pinoTransport(options?: PinoTransportOptions): Promise<Writable>
export default pinoTransport

/** Options of `redactedDestination`. */
export interface RedactedDestinationOptions {
  /** `1` (stdout), `2` (stderr) or a file path (appended to unless `append: false`). Required. */
  destination: 1 | 2 | string
  /** Create the file's directory. Default false. */
  mkdir?: boolean
  /** Append to the file (default) rather than truncate it. */
  append?: boolean
  /** Options for the writer's Redactor (the rules are compiled for the writer thread). */
  redact?: RedactorOptions
}

/**
 * A destination that redacts off the request thread: `pino(redactedDestination({ destination }))`.
 * `write` appends and returns; a native thread redacts each line as JSON and writes it. Emits
 * `'error'` once (`ERR_LOG_WRITE`; a process warning when nobody listens), `'finish'` and
 * `'close'` after `end()`.
 */
export interface RedactedDestination extends EventEmitter {
  /** `true` until ended or failed. */
  readonly writable: boolean
  /** Queues a chunk of lines; `false` once ended or failed (the chunk is dropped). */
  write(chunk: string | Uint8Array): boolean
  /** Calls back once every line written so far is at the destination. */
  flush(callback?: (error: Error | null) => void): void
  /** Blocks until every line written so far is at the destination. */
  flushSync(): void
  /** Writes what is left (an unterminated last line redacted as a line) and closes the file. */
  end(callback?: () => void): this
  destroy(): this
}

export declare function redactedDestination(options: RedactedDestinationOptions): RedactedDestination
