/**
 * The mesh's recent load, kept in memory for the dashboard's charts (GET /v1/stats/history):
 * one sample every `intervalMs` (15 s), the last `keepMs` (1 hour) of them in a ring, so the
 * memory is bounded (240 samples of at most `maxNodes` nodes each). Nothing is persisted: a
 * restarted node starts a new history. A sample holds, per node this node sees (itself and its
 * live peers), the CPU load it advertises and its queued (awarded, not started) and running
 * tasks as the ledger says; and how many tasks entered each state since the sample before.
 */
import type { Logger } from '../../base/index.js'
import { Ring } from './ring.js'

export interface NodeSample {
  peerId: string
  name: string
  cpuPercent: number
  queued: number
  running: number
}

export interface StatsSample {
  /** ms since the epoch */
  at: number
  /** Tasks that entered each state since the previous sample. */
  transitions: Record<string, number>
  nodes: NodeSample[]
}

/** What the history reads of the node. */
export interface StatsSource {
  /** Every node seen now (this one first), without queue counts. */
  nodes: () => Promise<Array<Omit<NodeSample, 'queued' | 'running'>>>
  /** Tasks in `state` now (newest first, up to `limit`), with the node of their latest attempt. */
  tasksIn: (state: 'awarded' | 'running', limit: number) => Promise<Array<{ node?: string }>>
  /** Calls `listener` with each task state change; returns the unsubscribe (undefined: refused). */
  onStateChange: (listener: (state: string) => void) => (() => void) | undefined
}

export interface StatsHistoryInit {
  intervalMs?: number
  keepMs?: number
  maxNodes?: number
}

const COUNT_LIMIT = 1000

export class StatsHistory {
  readonly intervalMs: number
  readonly #source: StatsSource
  readonly #log: Logger
  readonly #ring: Ring<StatsSample>
  readonly #maxNodes: number
  #transitions: Record<string, number> = {}
  #timer: NodeJS.Timeout | undefined
  #off: (() => void) | undefined
  #sampling: Promise<void> = Promise.resolve()

  constructor (source: StatsSource, logger: Logger, init: StatsHistoryInit = {}) {
    this.#source = source
    this.#log = logger
    this.intervalMs = init.intervalMs ?? 15_000
    this.#ring = new Ring(Math.max(1, Math.ceil((init.keepMs ?? 3_600_000) / this.intervalMs)))
    this.#maxNodes = init.maxNodes ?? 256
  }

  start (): void {
    this.#off = this.#source.onStateChange(state => { this.#transitions[state] = (this.#transitions[state] ?? 0) + 1 })
    this.#sampling = this.sample()
    this.#timer = setInterval(() => { this.#sampling = this.sample() }, this.intervalMs)
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.#timer)
    this.#off?.()
    await this.#sampling
  }

  /** Oldest first. */
  samples (): StatsSample[] { return this.#ring.toArray() }

  view (): { intervalMs: number, samples: StatsSample[] } { return { intervalMs: this.intervalMs, samples: this.samples() } }

  /** Takes one sample now (the timer calls this); a failure is logged and leaves no sample. */
  async sample (): Promise<void> {
    try {
      const [nodes, awarded, running] = await Promise.all([
        this.#source.nodes(), this.#source.tasksIn('awarded', COUNT_LIMIT), this.#source.tasksIn('running', COUNT_LIMIT),
      ])
      const count = (tasks: Array<{ node?: string }>): Map<string, number> => {
        const by = new Map<string, number>()
        for (const { node } of tasks) if (node !== undefined) by.set(node, (by.get(node) ?? 0) + 1)
        return by
      }
      const queuedBy = count(awarded)
      const runningBy = count(running)
      const transitions = this.#transitions
      this.#transitions = {}
      this.#ring.push({
        at: Date.now(),
        transitions,
        nodes: nodes.slice(0, this.#maxNodes).map(n => ({ ...n, queued: queuedBy.get(n.peerId) ?? 0, running: runningBy.get(n.peerId) ?? 0 })),
      })
    } catch (err) {
      this.#log.debug({ err: (err as Error).message }, 'stats sample failed')
    }
  }
}
