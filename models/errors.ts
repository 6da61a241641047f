/**
 * Local models' typed errors; callers match on `err.name`. An abort through a caller's signal
 * is the shared `AbortedError` of base/errors.ts.
 */
import { AbortedError, GryphgenError } from '../base/index.js'

/** Why a file is not a usable GGUF model; stable strings a caller may match on. */
export type InvalidModelFileReason =
  | 'unreadable' // cannot be opened or read (missing, a directory, permissions)
  | 'not-gguf' // the first four bytes are not the GGUF magic
  | 'unsupported-version' // a GGUF version this reader does not know (only 2 and 3 are)
  | 'absurd-count' // a count or length no real model has (tensors, keys, array items, dimensions)
  | 'truncated' // the file ends inside its header or before its last tensor's data
  | 'malformed' // inconsistent content: a bad value type, offset, alignment or UTF-8 string
  | 'header-too-large' // the header is longer than the reader's byte limit

/** A file is not a usable GGUF model; `reason` says why, `details` has `{ path, reason }`. */
export class InvalidModelFileError extends GryphgenError {
  readonly reason: InvalidModelFileReason
  constructor (message: string, options: { reason: InvalidModelFileReason, path: string, cause?: unknown }) {
    super(message, { cause: options.cause, details: { path: options.path, reason: options.reason } })
    this.reason = options.reason
  }
}

/** Options for writing a model (a GGUF file or a generated test model) are invalid; `details` lists every problem. */
export class ModelOptionsError extends GryphgenError {
  get problems (): string[] { return (this.details as string[] | undefined) ?? [] }
}

/** Throws AbortedError naming `what` when `signal` has aborted. */
export function checkAborted (signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new AbortedError(`${what} aborted`, { cause: signal.reason })
}
