/** AbortSignal plumbing shared by the blob store, fetcher and service. */
import { AbortedError } from '../base/index.js'

/** Throws AbortedError naming `what` when `signal` has aborted. */
export function checkAborted (signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new AbortedError(`${what} aborted`, { cause: signal.reason })
}

/** The caller's signal combined with a deadline (and any others given). */
export function withDeadline (ms: number, ...signals: Array<AbortSignal | undefined>): AbortSignal {
  return AbortSignal.any([AbortSignal.timeout(ms), ...signals.filter((s): s is AbortSignal => s !== undefined)])
}
