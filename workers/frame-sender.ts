/**
 * ZeroMQ v6 allows one pending `send` per socket (a second throws EBUSY). A FrameSender keeps
 * one socket's sends in order, one at a time, and coalesces the frames queued meanwhile for
 * the same peer into one multipart message (one worker message per frame), which is what
 * lets the pool keep up at many tasks in flight. A failed send is reported to `onError`
 * instead of thrown, so one unreachable peer never stalls or crashes the rest.
 */
export interface SendableSocket { send: (message: Array<string | Buffer>) => Promise<void> }

/** Frames per ZeroMQ message, at most; receivers refuse more. */
export const MAX_FRAMES_PER_MESSAGE = 256

export class FrameSender {
  readonly #socket: SendableSocket
  readonly #onError: (route: Buffer | null, err: unknown) => void
  #routes: Array<Buffer | null> = []
  #frames: string[] = []
  #head = 0
  #busy = false
  #idle: Array<() => void> = []

  constructor (socket: SendableSocket, onError: (route: Buffer | null, err: unknown) => void) {
    this.#socket = socket
    this.#onError = onError
  }

  /** Frames queued or being sent. */
  get pending (): number { return this.#frames.length - this.#head + (this.#busy ? 1 : 0) }

  /** Queues one frame for `route` (a ROUTER's peer routing id; null on a DEALER). */
  send (route: Buffer | null, frame: string): void {
    this.#routes.push(route)
    this.#frames.push(frame)
    if (!this.#busy) void this.#drain()
  }

  /** Resolves once everything queued so far has been handed to the socket (or failed). */
  async flushed (): Promise<void> {
    if (!this.#busy) return
    await new Promise<void>(resolve => this.#idle.push(resolve))
  }

  /** Drops what is still queued (the socket is closing). */
  clear (): void {
    this.#routes = []
    this.#frames = []
    this.#head = 0
  }

  async #drain (): Promise<void> {
    this.#busy = true
    for (;;) {
      await this.#sendQueued()
      // Stay busy until this event-loop turn ends: what the rest of it queues (results
      // resolving callers who submit again) then goes out together, as one message.
      await new Promise(resolve => setImmediate(resolve))
      if (this.#head === this.#frames.length) break
    }
    this.clear()
    this.#busy = false
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  async #sendQueued (): Promise<void> {
    while (this.#head < this.#frames.length) {
      const route = this.#routes[this.#head]
      const message: Array<string | Buffer> = route === null ? [] : [route]
      const first = this.#head
      while (this.#head < this.#frames.length && this.#routes[this.#head] === route && this.#head - first < MAX_FRAMES_PER_MESSAGE) {
        message.push(this.#frames[this.#head++])
      }
      if (this.#head === this.#frames.length) this.clear()
      try {
        await this.#socket.send(message)
      } catch (err) {
        this.#onError(route, err)
      }
    }
  }
}
