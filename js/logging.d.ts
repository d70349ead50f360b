// Types for `rampart/logging` (hand-written; checked with `tsc --noEmit` in `npm test`).
import type { Redactor, RedactorOptions } from './index.js'

/** A Redactor, or the options to build one. */
export type RedactorLike = Redactor | RedactorOptions

/** pino hooks that redact every line before it is written: `pino({ hooks: pinoRedaction(redactor) })`. */
export declare function pinoRedaction(redactor?: RedactorLike): { streamWrite(line: string): string }

/** A winston/logform format that redacts the finished line and the info fields; put it last. */
export declare function winstonRedaction(redactor?: RedactorLike): {
  transform(info: Record<string | symbol, unknown>): Record<string | symbol, unknown>
}
