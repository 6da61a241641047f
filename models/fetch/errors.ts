/** The model fetch's typed errors; callers match on `err.name`. */
import { GryphgenError } from '../../base/index.js'

/**
 * A holder broke the model fetch protocol or lied: malformed header, a manifest that differs
 * from the one the fetch started with, a chunk that does not match its hash, a short stream.
 * `details` has `{ peer, reason }`; the fetch goes on with another holder.
 */
export class ModelHolderError extends GryphgenError {
  get reason (): string { return (this.details as { reason?: string } | undefined)?.reason ?? 'unknown' }
}

/** No holder asked served the whole model; what was received is kept for the next try. `details` has `{ digest, asked, doneBytes }`. */
export class ModelUnavailableError extends GryphgenError {}

/** The model is larger than this node fetches (`models.fetchMaxMb`); `details` has `{ size, maxBytes }`. */
export class ModelFetchTooLargeError extends GryphgenError {}

/** Every chunk matched the manifest, but the whole file does not match the model's digest (a lying manifest): the download is discarded. */
export class ModelDigestMismatchError extends GryphgenError {}

/** The fetcher's options are invalid; `details` lists every problem. */
export class ModelFetchOptionsError extends GryphgenError {
  get problems (): string[] { return (this.details as string[] | undefined) ?? [] }
}
