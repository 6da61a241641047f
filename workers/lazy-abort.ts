/**
 * A task's cancel switch whose AbortController is made only when the handler asks for the
 * signal. Most short tasks (echo, lookups) never look at it, and an AbortController with its
 * signal is one of the costliest things a worker made per task. A cancel before the signal is
 * asked for is remembered: the signal, when made, is already aborted with the same reason.
 */
export class LazyAbort {
  #controller: AbortController | undefined
  #aborted = false
  #reason: unknown

  get aborted (): boolean { return this.#aborted }

  get signal (): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  abort (reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}
