/**
 * A worker: one DEALER connected to the broker. It says HELLO with its kind and token, waits
 * for WELCOME, says READY with its slots, then runs the tasks it is sent, each with its own
 * cancel switch (a CANCEL aborts it; see lazy-abort.ts), and answers each with exactly one result. It
 * heartbeats at the interval the broker chose; a blocked event loop stops the heartbeats and
 * the broker replaces the worker.
 *
 * BYE `unauthorized` or `version` ends runWorker with WorkerRejectedError. Any other BYE (the
 * broker restarted, evicted this worker, or is shutting down) aborts the running tasks and
 * joins again with a new HELLO. Aborting `signal` aborts the tasks, waits for them up to
 * `drainMs`, and resolves.
 */
import { randomBytes } from 'node:crypto'
import { Dealer } from 'zeromq'
import { AbortedError, silentLogger, type Logger } from '../base/index.js'
import {
  decodeBrokerFrame, encodeWorkerMessage, WORKER_MESSAGE_MAX_BYTES, WORKER_PROTOCOL_VERSION,
  type BrokerMessage, type WorkerKind, type WorkerMessage, type WorkerTask,
} from '../protocols/index.js'
import { InvalidTaskDataError, UnsupportedTaskError, WorkerRejectedError } from './errors.js'
import { FrameSender, MAX_FRAMES_PER_MESSAGE } from './frame-sender.js'
import { handlerRegistry, releaseKind, type HandlerRegistry, type TaskHandler } from './handlers.js'
import { LazyAbort } from './lazy-abort.js'
import { toWireError } from './wire-errors.js'

export interface RunWorkerOptions {
  endpoint: string
  kind: WorkerKind
  token: string
  signal: AbortSignal
  logger?: Logger
  /** Tasks run at once (the credit given in READY). Default 1. */
  slots?: number
  /** Handlers added to the kind's built-in ones. */
  handlers?: Record<string, TaskHandler>
  /** Set by the pool for the workers it spawns. */
  workerId?: string
  /** How often an unanswered HELLO is repeated. Default 2000 ms. */
  helloRetryMs?: number
  /** How long aborted tasks may take to end when the worker stops. Default 5000 ms. */
  drainMs?: number
  maxMessageBytes?: number
}

/** Progress and log messages beyond this many unsent are dropped; results never are. */
const CHATTER_MAX_PENDING = 1000

export async function runWorker (options: RunWorkerOptions): Promise<void> {
  const worker = new WorkerRuntime(options, handlerRegistry(options.kind, options.handlers))
  await worker.run()
}

class WorkerRuntime {
  readonly #options: RunWorkerOptions
  readonly #handlers: HandlerRegistry
  readonly #log: Logger
  readonly #maxBytes: number
  readonly #socket: Dealer
  readonly #sender: FrameSender
  readonly #running = new Map<number, LazyAbort>()
  /** Tasks whose handler has not returned yet (running or aborted), and who waits for none. */
  #settling = 0
  #drained: Array<() => void> = []
  #joined = false
  /** Increases at every (re)join: results of tasks from an earlier session are not sent. */
  #session = 0
  #heartbeat: NodeJS.Timeout | undefined
  #helloTimer: NodeJS.Timeout | undefined
  #rejected: WorkerRejectedError | undefined

  constructor (options: RunWorkerOptions, handlers: HandlerRegistry) {
    this.#options = options
    this.#handlers = handlers
    this.#log = (options.logger ?? silentLogger()).child({ component: 'gryphgen:worker', kind: options.kind })
    this.#maxBytes = options.maxMessageBytes ?? WORKER_MESSAGE_MAX_BYTES
    // A random routing id of its own: after a reconnection the broker still knows this worker.
    // (ZMQ_IMMEDIATE, which would keep HELLOs from queueing while the broker is away, lost the
    // first HELLO now and then here; a repeated HELLO is harmless: the broker welcomes again.)
    this.#socket = new Dealer({ linger: 0, routingId: randomBytes(16).toString('hex'), maxMessageSize: this.#maxBytes, sendHighWaterMark: 100_000 })
    this.#sender = new FrameSender(this.#socket, (_route, err) => this.#log.warn({ err }, 'send to broker failed'))
  }

  async run (): Promise<void> {
    const { signal } = this.#options
    if (signal.aborted) return
    this.#socket.connect(this.#options.endpoint)
    const onAbort = (): void => { this.#socket.close() }
    signal.addEventListener('abort', onAbort, { once: true })
    this.#hello()
    try {
      for await (const frames of this.#socket) {
        this.#receive(frames)
        if (this.#rejected !== undefined) break
      }
    } catch (err) {
      if (!signal.aborted) throw err
    } finally {
      signal.removeEventListener('abort', onAbort)
      await this.#shutdown()
    }
    if (this.#rejected !== undefined) throw this.#rejected
  }

  #send (message: WorkerMessage): void {
    this.#sender.send(null, encodeWorkerMessage(message))
  }

  #hello (): void {
    clearTimeout(this.#helloTimer)
    if (this.#joined || this.#socket.closed) return
    // A HELLO still waiting for a connection is enough; do not queue another.
    if (this.#sender.pending === 0) {
      const { kind, token, workerId, slots } = this.#options
      this.#log.debug({ endpoint: this.#options.endpoint, slots }, 'saying hello')
      this.#send({
        t: 'hello', v: WORKER_PROTOCOL_VERSION, kind, token, pid: process.pid,
        handlers: [...this.#handlers.keys()], ...(workerId === undefined ? {} : { workerId }),
      })
    }
    this.#helloTimer = setTimeout(() => this.#hello(), this.#options.helloRetryMs ?? 2000)
    this.#helloTimer.unref()
  }

  #receive (frames: Buffer[]): void {
    if (frames.length > MAX_FRAMES_PER_MESSAGE) {
      this.#log.warn({ frames: frames.length }, 'rejected a message of too many frames from the broker')
      return
    }
    for (const frame of frames) this.#receiveFrame(frame)
  }

  #receiveFrame (frame: Buffer): void {
    let messages: BrokerMessage[]
    try {
      messages = decodeBrokerFrame(frame, this.#maxBytes)
    } catch (err) {
      this.#log.warn({ err }, 'rejected a malformed frame from the broker')
      return
    }
    for (const message of messages) {
      this.#receiveMessage(message)
      if (this.#rejected !== undefined) return
    }
  }

  #receiveMessage (message: BrokerMessage): void {
    switch (message.t) {
      case 'welcome': return this.#welcome(message.heartbeatIntervalMs)
      case 'task': return this.#startTask(message)
      case 'cancel': return this.#running.get(message.task)?.abort(new AbortedError('task cancelled by the broker'))
      case 'bye': return this.#bye(message.reason)
      default: return message satisfies never
    }
  }

  #welcome (heartbeatIntervalMs: number): void {
    if (this.#joined) return
    this.#joined = true
    this.#session++
    clearTimeout(this.#helloTimer)
    clearInterval(this.#heartbeat)
    this.#heartbeat = setInterval(() => {
      // One heartbeat waiting to go out is as good as several.
      if (this.#sender.pending === 0) this.#send({ t: 'heartbeat', running: this.#running.size })
    }, heartbeatIntervalMs)
    this.#heartbeat.unref()
    this.#log.info({ endpoint: this.#options.endpoint }, 'joined the worker pool')
    this.#send({ t: 'ready', slots: this.#options.slots ?? 1 })
  }

  #bye (reason: string): void {
    this.#log.warn({ reason }, 'the broker said bye')
    this.#leave()
    if (reason === 'unauthorized' || reason === 'version') {
      this.#rejected = new WorkerRejectedError(`the broker at ${this.#options.endpoint} refused this worker (${reason})`, { details: { reason } })
      this.#socket.close()
      return
    }
    this.#hello()
  }

  #leave (): void {
    this.#joined = false
    this.#session++
    clearInterval(this.#heartbeat)
    for (const controller of this.#running.values()) controller.abort(new AbortedError('the worker left the pool'))
    this.#running.clear()
  }

  #startTask (message: WorkerTask): void {
    if (!this.#joined || this.#running.has(message.task)) return
    const abort = new LazyAbort()
    this.#running.set(message.task, abort)
    this.#settling++
    void this.#runTask(message, abort, this.#session)
  }

  /** Runs one task and sends its one result; never rejects. */
  async #runTask (message: WorkerTask, abort: LazyAbort, session: number): Promise<void> {
    const { task, type } = message
    const current = (): boolean => session === this.#session && !this.#socket.closed
    const chatter = (frame: WorkerMessage): void => {
      if (current() && !abort.aborted && this.#sender.pending < CHATTER_MAX_PENDING) this.#send(frame)
    }
    try {
      let frame: string
      try {
        const handler = this.#handlers.get(type)
        if (handler === undefined) throw new UnsupportedTaskError(`the ${this.#options.kind} worker kind has no handler for task type '${type}'`)
        const log = this.#log
        let logger: Logger | undefined
        const value = await handler(message.input, {
          get signal () { return abort.signal },
          progress: progress => chatter({ ...progress, t: 'progress', task }),
          log: (level, text, stream) => chatter({ t: 'log', task, level, message: text.slice(0, 16_384), ...(stream === undefined ? {} : { stream }) }),
          // A child logger costs microseconds; most tasks never log.
          get logger () { return (logger ??= log.child({ task, type })) },
        })
        frame = this.#resultFrame(task, value)
      } catch (err) {
        frame = encodeWorkerMessage({ t: 'result', task, ok: false, error: toWireError(err) })
      }
      if (current()) this.#sender.send(null, frame)
    } catch (err) {
      this.#log.error({ err, task }, 'a task ended without a result frame')
    } finally {
      if (this.#running.get(task) === abort) this.#running.delete(task)
      if (--this.#settling === 0) for (const resolve of this.#drained.splice(0)) resolve()
    }
  }

  /** The result as one frame, or an InvalidTaskDataError result when it cannot be one. */
  #resultFrame (task: number, value: unknown): string {
    let frame: string
    try {
      frame = encodeWorkerMessage({ t: 'result', task, ok: true, value: value ?? null })
    } catch (err) {
      throw new InvalidTaskDataError(`the task's result is not JSON: ${(err as Error).message}`)
    }
    if (frame.length * 3 > this.#maxBytes && Buffer.byteLength(frame) > this.#maxBytes) {
      throw new InvalidTaskDataError(`the task's result exceeds ${this.#maxBytes} bytes`)
    }
    return frame
  }

  async #shutdown (): Promise<void> {
    clearTimeout(this.#helloTimer)
    this.#leave()
    const drain = this.#settling === 0 ? undefined : new Promise<void>(resolve => this.#drained.push(resolve))
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>(resolve => { timer = setTimeout(resolve, this.#options.drainMs ?? 5000) })
    await Promise.race([drain, deadline])
    clearTimeout(timer)
    if (this.#settling > 0) this.#log.warn({ tasks: this.#settling }, 'tasks still running when the worker stopped')
    await releaseKind(this.#options.kind).catch((err: Error) => { this.#log.warn({ err: err.message }, 'releasing the worker kind failed') })
    this.#sender.clear()
    if (!this.#socket.closed) this.#socket.close()
  }
}
