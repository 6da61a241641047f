/**
 * The blob store's and blob service's typed errors; callers match on `err.name`.
 * An abort through a caller's signal is the shared `AbortedError` of base/errors.ts.
 */
import { GryphgenError } from '../base/index.js'

/** A digest is not 64 lowercase hex characters (a SHA-256). */
export class InvalidDigestError extends GryphgenError {}

/** A blob is larger than the configured maximum; `details` has `{ size, maxBytes }`. */
export class BlobTooLargeError extends GryphgenError {}

/** A stored file no longer matches its digest; it was removed and is not served. */
export class BlobCorruptError extends GryphgenError {}

/** The store's or service's options are invalid; `details` lists every problem. */
export class BlobOptionsError extends GryphgenError {
  get problems (): string[] { return (this.details as string[] | undefined) ?? [] }
}

/** The blob store cannot read or write its files (disk full, permissions) or is closed. */
export class BlobStoreError extends GryphgenError {}

/** No local copy, and no peer asked (hints, DHT providers, connected peers) served the blob. */
export class BlobNotFoundError extends GryphgenError {}

/**
 * A peer broke the blob protocol: malformed header, more bytes than it announced or than
 * allowed, a short stream, or bytes that do not match the digest. `details` has `{ peer, reason }`.
 */
export class BlobPeerError extends GryphgenError {
  get reason (): string { return (this.details as { reason?: string } | undefined)?.reason ?? 'unknown' }
}

/** Pinning one more blob would exceed the number of pins a node keeps; `details` has `{ max }`. */
export class TooManyPinsError extends GryphgenError {}
