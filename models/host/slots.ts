/**
 * A fixed number of slots (a context's sequences) handed out in request order. A waiter whose
 * signal aborts leaves the line with AbortedError; `close` fails every waiter. No I/O.
 */
import { abortError } from './abort.js'

interface Waiter { resolve: () => void, reject: (err: Error) => void }

export class SlotQueue {
  #free: number
  readonly #waiters: Waiter[] = []
  #closed: Error | undefined

  constructor (slots: number) {
    this.#free = slots
  }

  /** Requests waiting for a slot. */
  get waiting (): number { return this.#waiters.length }

  /** Resolves when the caller holds a slot; it must `release()` it exactly once. */
  async acquire (signal: AbortSignal): Promise<void> {
    if (this.#closed !== undefined) throw this.#closed
    if (signal.aborted) throw abortError(signal)
    if (this.#free > 0 && this.#waiters.length === 0) {
      this.#free--
      return
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => { signal.removeEventListener('abort', onAbort); resolve() },
        reject: err => { signal.removeEventListener('abort', onAbort); reject(err) },
      }
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter)
        if (index !== -1) this.#waiters.splice(index, 1)
        reject(abortError(signal))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }

  release (): void {
    const next = this.#waiters.shift()
    if (next !== undefined) next.resolve()
    else this.#free++
  }

  /** Fails every waiter and every later acquire with `err`. */
  close (err: Error): void {
    this.#closed = err
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err)
  }
}
