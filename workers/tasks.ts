/**
 * The pool's table of unsettled tasks. Each task settles exactly once: `settle` removes it, so
 * a late or repeated result, a loss after a result, or an abort after either finds nothing and
 * changes nothing. The encoded task frame is built once, at submit, so an input that is not
 * JSON fails the submit itself.
 */
import { AbortedError } from '../base/index.js'
import { encodeWorkerMessage, type TaskLogLine, type TaskProgress, type WorkerKind } from '../protocols/index.js'
import { InvalidTaskDataError } from './errors.js'

export interface SubmitOptions {
  /** Aborting cancels the task: dequeued if waiting, else the worker aborts it (killing its sandbox). */
  signal?: AbortSignal
  onProgress?: (progress: TaskProgress) => void
  onLog?: (line: TaskLogLine) => void
}

export interface TaskRequest {
  /** The task type, a key of the kind's handler registry (`sandbox`, `echo`, ...). */
  type: string
  /** JSON input for the handler. */
  input?: unknown
}

export interface TaskRecord {
  readonly id: number
  readonly kind: WorkerKind
  readonly frame: string
  readonly options: SubmitOptions
  workerId: string | null
  /** A cancel was sent; whatever the worker answers, the task ends with AbortedError. */
  cancelling: boolean
  cancelTimer: NodeJS.Timeout | undefined
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  abortListener: (() => void) | undefined
}

export interface TaskCounters { completed: number, failed: number, cancelled: number, lost: number }

export class TaskTable {
  readonly #tasks = new Map<number, TaskRecord>()
  readonly #counters: Record<WorkerKind, TaskCounters> = {
    exec: { completed: 0, failed: 0, cancelled: 0, lost: 0 },
    model: { completed: 0, failed: 0, cancelled: 0, lost: 0 },
  }

  #nextId = 1
  #emptyWaiters: Array<() => void> = []

  get size (): number { return this.#tasks.size }

  counters (kind: WorkerKind): TaskCounters { return { ...this.#counters[kind] } }

  get (id: number): TaskRecord | undefined { return this.#tasks.get(id) }

  values (): TaskRecord[] { return [...this.#tasks.values()] }

  /** Registers a task; `onAbort` runs if its signal aborts before it settles. Throws when the input is not JSON. */
  create (kind: WorkerKind, request: TaskRequest, options: SubmitOptions, maxBytes: number, onAbort: (id: number) => void): { record: TaskRecord, promise: Promise<unknown> } {
    const id = this.#nextId++
    let frame: string
    try {
      frame = encodeWorkerMessage({ t: 'task', task: id, type: request.type, input: request.input ?? null })
    } catch (err) {
      throw new InvalidTaskDataError(`the task's input is not JSON: ${(err as Error).message}`)
    }
    if (frame.length * 3 > maxBytes && Buffer.byteLength(frame) > maxBytes) throw new InvalidTaskDataError(`the task's input exceeds ${maxBytes} bytes`)
    let resolve!: (value: unknown) => void
    let reject!: (err: Error) => void
    const promise = new Promise<unknown>((res, rej) => { resolve = res; reject = rej })
    const record: TaskRecord = { id, kind, frame, options, workerId: null, cancelling: false, cancelTimer: undefined, resolve, reject, abortListener: undefined }
    if (options.signal !== undefined) {
      record.abortListener = () => onAbort(id)
      options.signal.addEventListener('abort', record.abortListener, { once: true })
    }
    this.#tasks.set(id, record)
    return { record, promise }
  }

  /** Settles the task once; false when it had already settled (or never existed). */
  settle (id: number, outcome: { ok: true, value: unknown } | { ok: false, error: Error, lost?: boolean }): boolean {
    const record = this.#tasks.get(id)
    if (record === undefined) return false
    this.#tasks.delete(id)
    clearTimeout(record.cancelTimer)
    if (record.abortListener !== undefined) record.options.signal?.removeEventListener('abort', record.abortListener)
    const counters = this.#counters[record.kind]
    const aborted = record.cancelling || record.options.signal?.aborted === true
    if (aborted) {
      counters.cancelled++
      record.reject(new AbortedError('task cancelled'))
    } else if (outcome.ok) {
      counters.completed++
      record.resolve(outcome.value)
    } else {
      if (outcome.lost === true) counters.lost++
      else counters.failed++
      record.reject(outcome.error)
    }
    if (this.#tasks.size === 0) for (const resolve of this.#emptyWaiters.splice(0)) resolve()
    return true
  }

  /** Resolves when no task is unsettled, or after `timeoutMs`; true when empty. */
  async whenEmpty (timeoutMs: number): Promise<boolean> {
    if (this.#tasks.size === 0) return true
    let timer: NodeJS.Timeout | undefined
    const empty = new Promise<void>(resolve => this.#emptyWaiters.push(resolve))
    await Promise.race([empty, new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })])
    clearTimeout(timer)
    return this.#tasks.size === 0
  }
}
