/**
 * CompactionSchedule: runs a compaction of the tasks that ended more than `afterMs` ago every
 * `everyMs` (`afterMs` 0: never, unless asked), and on demand (`gryphgen ledger compact`); each
 * run then expires the summaries older than `summariesMs` (if set).
 * One run at a time: a request during a run waits for it and runs after. A failed run is
 * logged and retried at the next tick; the ledger is unchanged by it (one atomic batch).
 */
import type { Logger } from '../base/index.js'
import type { CompactionResult } from './compact.js'
import type { LedgerRetention } from './retention.js'

export interface RetentionSettings {
  /** Tasks terminal for longer than this are compacted (0: compaction is off). */
  afterMs: number
  /** Interval between compactions. */
  everyMs: number
  /** Summaries of tasks unchanged for longer than this expire after a compaction (expire.ts; 0 or absent: kept). */
  summariesMs?: number
}

export interface CompactionScheduleComponents {
  retention: Pick<LedgerRetention, 'compact' | 'expire'>
  logger: Logger
  now?: () => number
}

export class CompactionSchedule {
  readonly settings: Readonly<RetentionSettings>
  readonly #c: CompactionScheduleComponents
  readonly #abort = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #nextAt: number | undefined
  #running: Promise<unknown> = Promise.resolve()

  constructor (components: CompactionScheduleComponents, settings: RetentionSettings) {
    this.#c = components
    this.settings = Object.freeze({ ...settings })
  }

  /** When the next scheduled compaction runs (undefined: compaction is off or stopped). */
  get nextAt (): number | undefined { return this.#nextAt }

  start (): void {
    if (this.settings.afterMs > 0) this.#arm()
  }

  async stop (): Promise<void> {
    this.#abort.abort()
    clearTimeout(this.#timer)
    this.#nextAt = undefined
    await this.#running.catch(() => {})
  }

  /** Compact now the tasks that ended more than `afterMs` ago (default: the configured window). */
  async runNow (options: { afterMs?: number, signal?: AbortSignal } = {}): Promise<CompactionResult & { horizon: number, expired: number }> {
    const afterMs = options.afterMs ?? this.settings.afterMs
    const signal = options.signal === undefined ? this.#abort.signal : AbortSignal.any([options.signal, this.#abort.signal])
    const run = this.#running.catch(() => {}).then(async () => {
      const now = (this.#c.now ?? Date.now)()
      const horizon = now - afterMs
      const result = await this.#c.retention.compact(horizon, { signal })
      const summariesMs = this.settings.summariesMs ?? 0
      const expired = summariesMs > 0 ? await this.#c.retention.expire(now - summariesMs, { signal }) : 0
      return { ...result, horizon, expired }
    })
    this.#running = run
    return run
  }

  #arm (): void {
    const now = (this.#c.now ?? Date.now)()
    this.#nextAt = now + this.settings.everyMs
    this.#timer = setTimeout(() => {
      void this.runNow().catch((err: Error) => {
        if (!this.#abort.signal.aborted) this.#c.logger.warn({ err: err.message }, 'ledger compaction failed; retrying at the next tick')
      }).finally(() => { if (!this.#abort.signal.aborted) this.#arm() })
    }, this.settings.everyMs)
    this.#timer.unref()
  }
}
