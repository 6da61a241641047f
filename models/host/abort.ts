/** Aborts as AbortedError: the signal's own reason when it is one, else one caused by it. No I/O. */
import { AbortedError } from '../../base/index.js'

export function abortError (signal: AbortSignal, what = 'model request'): AbortedError {
  const reason: unknown = signal.reason
  if (reason instanceof AbortedError) return reason
  return new AbortedError(`${what} aborted`, { cause: reason })
}

/** `promise`, or AbortedError as soon as `signal` aborts (the work behind `promise` goes on). */
export async function abortable<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw abortError(signal)
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(abortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}
