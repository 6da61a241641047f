/**
 * Serialises every change to the ledger and commits them in groups: jobs run one at a time
 * (each sees the heads left by the one before), their batch ops are gathered, and one
 * LevelDB batch is written for the whole group, fsynced if any job needs durability. A
 * group's callers are answered only after its batch is on disk.
 *
 * Background jobs (the task indexer) run only when no foreground job waits, and alone in
 * their group: everything written before them is committed, so they may read the database.
 */
import type { BatchOp } from './store.js'

export interface JobResult<T> { ops: BatchOp[], value: T, after?: () => void, failed?: (err: unknown) => void }
interface Job { durable: boolean, work: () => Promise<JobResult<unknown>>, resolve: (v: unknown) => void, reject: (e: unknown) => void }

const MAX_GROUP_OPS = 20_000

export class WriteQueue {
  readonly #write: (ops: BatchOp[], sync: boolean) => Promise<void>
  readonly #onWriteError: () => Promise<void>
  #jobs: Job[] = []
  #background: Job[] = []
  #running: Promise<void> | undefined

  readonly #onAfterError: (err: unknown) => void

  constructor (write: (ops: BatchOp[], sync: boolean) => Promise<void>, onWriteError: () => Promise<void>, onAfterError: (err: unknown) => void = () => {}) {
    this.#write = write
    this.#onWriteError = onWriteError
    this.#onAfterError = onAfterError
  }

  async run<T> (durable: boolean, work: () => Promise<JobResult<T>>): Promise<T> {
    return this.#enqueue(this.#jobs, durable, work)
  }

  async runInBackground<T> (work: () => Promise<JobResult<T>>): Promise<T> {
    return this.#enqueue(this.#background, false, work)
  }

  get idle (): boolean { return this.#running === undefined }

  async drain (): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  async #enqueue<T> (list: Job[], durable: boolean, work: () => Promise<JobResult<T>>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      list.push({ durable, work: work as () => Promise<JobResult<unknown>>, resolve: resolve as (v: unknown) => void, reject })
      this.#start()
    })
  }

  /**
   * Run the loop unless it runs. A job enqueued after the loop's last check but before its
   * promise settled (a caller resuming in a microtask and appending again) would otherwise
   * wait forever: the loop starts again whenever it ends with work left.
   */
  #start (): void {
    if (this.#running !== undefined) return
    this.#running = this.#loop().finally(() => {
      this.#running = undefined
      if (this.#jobs.length > 0 || this.#background.length > 0) this.#start()
    })
  }

  async #loop (): Promise<void> {
    while (this.#jobs.length > 0 || this.#background.length > 0) {
      const alone = this.#jobs.length === 0
      const group: Array<{ job: Job, result: JobResult<unknown> }> = []
      let count = 0
      while (count < MAX_GROUP_OPS) {
        const job = alone ? this.#background.shift() : this.#jobs.shift()
        if (job === undefined) break
        try {
          const result = await job.work()
          group.push({ job, result })
          count += result.ops.length
        } catch (err) {
          job.reject(err)
        }
        if (alone) break
      }
      // A job's ops as they are when it is alone in its group (a snapshot page's job brings 75,000), not copied.
      const ops = group.length === 1 ? group[0].result.ops : group.flatMap(g => g.result.ops)
      try {
        if (ops.length > 0) await this.#write(ops, group.some(g => g.job.durable))
      } catch (err) {
        await this.#onWriteError().catch(() => {})
        for (const { job, result } of group) { result.failed?.(err); job.reject(err) }
        continue
      }
      for (const { job, result } of group) {
        // A failing listener must not leave the rest of the group unanswered.
        try { result.after?.() } catch (err) { this.#onAfterError(err) }
        job.resolve(result.value)
      }
    }
  }
}
