/**
 * The worker pool's typed errors; callers match on `err.name`. `retryable` says whether the
 * same task may be submitted again: true when the failure was the pool's or the worker's
 * (crash, hang, shutdown), false when it was the task's own.
 */
import { GryphgenError } from '../base/index.js'

export class WorkerPoolError extends GryphgenError {
  get retryable (): boolean { return false }
}

/** The worker running the task crashed, hung (no heartbeat), or disconnected. The task ran at most once. */
export class WorkerLostError extends WorkerPoolError {
  override get retryable (): boolean { return true }
}

/** The pool is not running (not started, stopping or stopped); a task cut off by the drain deadline ends so too. */
export class PoolStoppedError extends WorkerPoolError {
  override get retryable (): boolean { return true }
}

/** The worker kind has no handler for this task type (an unknown type). */
export class UnsupportedTaskError extends WorkerPoolError {}

/** The task's handler failed in the worker; `remoteName` is the error's name there. */
export class TaskFailedError extends WorkerPoolError {
  readonly remoteName: string
  readonly #retryable: boolean
  constructor (message: string, options: { remoteName: string, retryable: boolean, details?: unknown }) {
    super(message, { details: options.details })
    this.remoteName = options.remoteName
    this.#retryable = options.retryable
  }

  override get retryable (): boolean { return this.#retryable }
}

/** The pool's options are invalid; `details` lists every problem. */
export class WorkerPoolConfigError extends WorkerPoolError {
  get problems (): string[] { return (this.details as string[] | undefined) ?? [] }
}

/** A spawned worker did not join in time, or exited before joining. */
export class WorkerStartError extends WorkerPoolError {}

/** The broker refused this worker (wrong token, other protocol version); `details.reason` says which. */
export class WorkerRejectedError extends WorkerPoolError {}

/** A task's input or result is not JSON, or is larger than the frame limit. */
export class InvalidTaskDataError extends WorkerPoolError {}

/** No worker of the kind is connected and the pool starts none (size 0); connect one or configure a size. */
export class NoWorkersError extends WorkerPoolError {
  override get retryable (): boolean { return true }
}
