/**
 * Errors across the worker wire. A worker sends `{ name, message, retryable, details }`; the
 * pool rebuilds the typed errors callers match on (the pool's, the sandbox's, AbortedError)
 * and wraps any other name in TaskFailedError with `remoteName`. Pure functions.
 */
import { AbortedError, GryphgenError, InvalidMessageError } from '../base/index.js'
import { InvalidSandboxSpecError, SandboxBusyError, SandboxSetupError, SandboxUnavailableError } from '../sandbox/index.js'
import type { WorkerWireError } from '../protocols/index.js'
import { InvalidTaskDataError, TaskFailedError, UnsupportedTaskError } from './errors.js'

type ErrorClass = new (message: string, options?: { details?: unknown }) => GryphgenError

/** Names a worker may send that are rebuilt as the same class here. */
const KNOWN: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ['AbortedError', AbortedError],
  ['UnsupportedTaskError', UnsupportedTaskError],
  ['InvalidTaskDataError', InvalidTaskDataError],
  ['InvalidMessageError', InvalidMessageError],
  ['InvalidSandboxSpecError', InvalidSandboxSpecError],
  ['SandboxUnavailableError', SandboxUnavailableError],
  ['SandboxSetupError', SandboxSetupError],
  ['SandboxBusyError', SandboxBusyError],
])

const DETAILS_MAX_BYTES = 64 * 1024

export function toWireError (err: unknown): WorkerWireError {
  const e = err instanceof Error ? err : new Error(String(err))
  const name = typeof e.name === 'string' && e.name.length > 0 ? e.name.slice(0, 128) : 'Error'
  const retryable = (e as { retryable?: unknown }).retryable === true
  const wire: WorkerWireError = { name, message: String(e.message).slice(0, 4096), retryable }
  const details = (e as { details?: unknown }).details
  if (details !== undefined) {
    try {
      const json = JSON.stringify(details)
      if (json !== undefined && json.length <= DETAILS_MAX_BYTES) wire.details = JSON.parse(json)
    } catch {
      // details that do not serialize are left out; name and message still go
    }
  }
  return wire
}

export function fromWireError (wire: WorkerWireError): Error {
  const known = KNOWN.get(wire.name)
  if (known !== undefined) return new known(wire.message, wire.details === undefined ? undefined : { details: wire.details })
  return new TaskFailedError(`${wire.name}: ${wire.message}`, { remoteName: wire.name, retryable: wire.retryable, details: wire.details })
}
