/**
 * Typed errors. Every error a caller may act on has its own class with a stable `name`;
 * callers match on `err.name`, never on message text. `details` carries structured facts
 * (for example the list of config problems) that the API and CLI can show.
 */
export class GryphgenError extends Error {
  readonly details?: unknown
  constructor (message: string, options?: { cause?: unknown, details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.details = options?.details
  }
}

/** The configuration (file, environment or flags) is invalid; `details` lists every problem. */
export class ConfigError extends GryphgenError {
  get problems (): string[] { return (this.details as string[] | undefined) ?? [] }
}

/** A file in the data dir is unreadable or corrupt; it is never silently replaced. */
export class DataDirError extends GryphgenError {}

/** An invite string could not be decoded. */
export class InvalidInviteError extends GryphgenError {}

/** A port or address the node must listen on is already taken. */
export class AddressInUseError extends GryphgenError {}

/** The local node's API could not be reached (not running, wrong data dir). */
export class NodeNotRunningError extends GryphgenError {}

/** The local node answered an API call with an error. */
export class ApiError extends GryphgenError {
  constructor (message: string, readonly status: number, readonly errorName: string) {
    super(message)
  }
}

/** A message from a peer failed validation. */
export class InvalidMessageError extends GryphgenError {}

/** The operation was aborted through its AbortSignal. */
export class AbortedError extends GryphgenError {}

/** The thing asked for does not exist (HTTP 404). */
export class NotFoundError extends GryphgenError {}

/** A command line that cannot be run as given (exit code 2). */
export class UsageError extends GryphgenError {}
