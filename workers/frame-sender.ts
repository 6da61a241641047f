/**
 * ZeroMQ v6 allows one pending `send` per socket (a second throws EBUSY). A FrameSender keeps
 * one socket's sends in order, one at a time, and packs what is queued meanwhile: the worker
 * messages for one peer go out as batch frames (protocols/worker.ts: a JSON array of up to
 * WORKER_FRAME_MAX_MESSAGES messages and BATCH_MAX_CHARS characters), the frames for one peer
 * as one multipart ZeroMQ message. This is what lets the pool keep up at many tasks in flight:
 * each ZeroMQ message and each frame has a fixed cost on both sides, far above a small
 * message's own.
 *
 * - Messages are grouped by peer, not only when adjacent: the broker hands tasks to its
 *   workers in turn (LRU), so adjacent messages almost always go to different peers. Each
 *   peer's messages keep their order; messages for different peers have none between them
 *   (they travel on different connections anyway).
 * - The first message queued while idle waits for the event loop's check phase (setImmediate):
 *   what the rest of this turn queues (the results of one received message resolving their
 *   callers, who submit again; a worker's tasks finishing) goes with it. After each send the
 *   sender stays busy until the end of the next turn, for the same reason.
 * A failed send is reported to `onError` instead of thrown, so one unreachable peer never
 * stalls or crashes the rest.
 */
import { encodeWorkerBatch, WORKER_FRAME_MAX_MESSAGES } from '../protocols/index.js'

export interface SendableSocket { send: (message: Array<string | Buffer>) => Promise<void> }

/** Frames per ZeroMQ message, at most; receivers refuse more. */
export const MAX_FRAMES_PER_MESSAGE = 256
/**
 * Characters of one batch frame, at most (a longer message goes alone, in a frame of its own):
 * at up to 3 UTF-8 bytes a character, far under the smallest frame limit a pool allows (64 KiB).
 */
export const BATCH_MAX_CHARS = 16_384

interface PeerQueue { route: Buffer | null, messages: string[] }

export class FrameSender {
  readonly #socket: SendableSocket
  readonly #onError: (route: Buffer | null, err: unknown) => void
  /** Messages not yet handed to the socket, by peer (a route's latin1 key; '' for null). */
  #queue = new Map<string, PeerQueue>()
  #queued = 0
  /** Bumped by clear(): a drain that started before stops sending. */
  #epoch = 0
  #busy = false
  #idle: Array<() => void> = []

  constructor (socket: SendableSocket, onError: (route: Buffer | null, err: unknown) => void) {
    this.#socket = socket
    this.#onError = onError
  }

  /** Messages queued or being sent. */
  get pending (): number { return this.#queued + (this.#busy ? 1 : 0) }

  /** Queues one encoded worker message for `route` (a ROUTER's peer routing id; null on a DEALER). */
  send (route: Buffer | null, message: string): void {
    const key = route === null ? '' : route.toString('latin1')
    const queue = this.#queue.get(key)
    if (queue === undefined) this.#queue.set(key, { route, messages: [message] })
    else queue.messages.push(message)
    this.#queued++
    if (!this.#busy) {
      this.#busy = true
      setImmediate(() => { void this.#drain() })
    }
  }

  /** Resolves once everything queued so far has been handed to the socket (or failed). */
  async flushed (): Promise<void> {
    if (!this.#busy) return
    await new Promise<void>(resolve => this.#idle.push(resolve))
  }

  /** Drops what is still queued (the socket is closing). */
  clear (): void {
    this.#queue = new Map()
    this.#queued = 0
    this.#epoch++
  }

  async #drain (): Promise<void> {
    const epoch = this.#epoch
    for (;;) {
      while (this.#queue.size > 0 && epoch === this.#epoch) await this.#sendQueued(epoch)
      await new Promise(resolve => setImmediate(resolve))
      if (this.#queue.size === 0 || epoch !== this.#epoch) break
    }
    this.#busy = false
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  /** Sends what is queued now; what is queued meanwhile waits for the next call (per-peer order holds). */
  async #sendQueued (epoch: number): Promise<void> {
    const queues = this.#queue
    this.#queue = new Map()
    for (const { route, messages } of queues.values()) {
      if (epoch !== this.#epoch) return
      this.#queued -= messages.length
      const frames = batchFrames(messages)
      for (let first = 0; first < frames.length && epoch === this.#epoch; first += MAX_FRAMES_PER_MESSAGE) {
        const part = frames.slice(first, first + MAX_FRAMES_PER_MESSAGE)
        if (route !== null) part.unshift(route)
        try {
          await this.#socket.send(part)
        } catch (err) {
          this.#onError(route, err)
        }
      }
    }
  }
}

/** Packs encoded messages, in order, into as few batch frames as the limits allow. */
function batchFrames (messages: readonly string[]): Array<string | Buffer> {
  const frames: Array<string | Buffer> = []
  let batch: string[] = []
  let chars = 0
  for (const message of messages) {
    if (batch.length > 0 && (batch.length === WORKER_FRAME_MAX_MESSAGES || chars + message.length + 1 > BATCH_MAX_CHARS)) {
      frames.push(encodeWorkerBatch(batch))
      batch = []
      chars = 0
    }
    batch.push(message)
    chars += message.length + 1
  }
  if (batch.length > 0) frames.push(encodeWorkerBatch(batch))
  return frames
}
