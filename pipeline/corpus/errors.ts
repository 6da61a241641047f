/**
 * Retrieval's typed errors; callers match on `err.name`. An abort through a caller's signal is
 * base/errors.ts's AbortedError.
 */
import { AbortedError, GryphgenError } from '../../base/index.js'

/** No corpus of that name exists; `details` has `{ name }`. */
export class CorpusNotFoundError extends GryphgenError {}

/** A corpus name does not match CORPUS_NAME_PATTERN; `details` has `{ name }`. */
export class InvalidCorpusNameError extends GryphgenError {}

/** A query has no searchable term (only stop words, punctuation or nothing) and there is no embedding to rank by. */
export class EmptyQueryError extends GryphgenError {}

/** An exported corpus blob is damaged or not a corpus; `details` lists the problems. */
export class InvalidCorpusError extends GryphgenError {}

/** The injected embedding function answered badly (wrong count, not numbers, another dimension than the corpus's). */
export class InvalidEmbeddingError extends GryphgenError {}

/** Options out of range (k, file limits, documents without a path); `details` lists the problems. */
export class CorpusOptionsError extends GryphgenError {}

/** Throws AbortedError naming `what` when `signal` has aborted. */
export function checkAborted (signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new AbortedError(`${what} aborted`, { cause: signal.reason })
}

/** An uploaded documents body is not JSON of the shape `{ documents: [{ path, text }] }`; `details` lists the problems. */
export class InvalidDocumentsError extends GryphgenError {}

/** The indexing worker thread failed (it crashed, or could not start); the upload may be sent again. */
export class IndexerFailedError extends GryphgenError {}
