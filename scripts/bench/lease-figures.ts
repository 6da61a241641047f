/**
 * The figures of the pinned-sleep lease run (scripts/bench/pinned-sleeps.ts), pure: from the
 * tasks' ledger histories (every node's, merged) and from /metrics samples. Nothing here reads
 * or writes anything.
 *
 * - attempts > 1, by why: each `retried` entry's reason (`lease expired`, `worker lost`,
 *   `award declined`, other) and each `adopted` entry (`takeover`);
 * - leases lost: a re-award after `lease expired`, or a takeover, while no node of the mesh had
 *   died (the run kills nothing, and checks that every node process stayed up);
 * - run twice: a task with more than one attempt that wrote `started`.
 */

export interface HistoryEntry { type: string, author: string, body: Record<string, unknown> }

export type RetryCause = 'lease expired' | 'takeover' | 'worker lost' | 'award declined' | 'other'

export interface LeaseFigures {
  tasks: number
  /** Tasks with more than one awarded attempt. */
  retriedTasks: number
  causes: Record<RetryCause, number>
  /** Lease expiries and takeovers (every holder was alive: the run kills no node). */
  leasesLost: number
  /** Tasks with more than one attempt that started running. */
  ranTwice: number
  /** Tasks whose history names a cause of each kind, for the report (a few ids per cause). */
  examples: Partial<Record<RetryCause | 'ran twice', string[]>>
}

export function retryCause (reason: string): RetryCause {
  if (reason.startsWith('lease expired')) return 'lease expired'
  if (reason.includes('WorkerLostError')) return 'worker lost'
  if (reason.startsWith('award declined')) return 'award declined'
  return 'other'
}

const EXAMPLES = 5

export function leaseFigures (histories: ReadonlyMap<string, readonly HistoryEntry[]>): LeaseFigures {
  const f: LeaseFigures = {
    tasks: histories.size,
    retriedTasks: 0,
    causes: { 'lease expired': 0, takeover: 0, 'worker lost': 0, 'award declined': 0, other: 0 },
    leasesLost: 0,
    ranTwice: 0,
    examples: {},
  }
  const example = (what: RetryCause | 'ran twice', id: string): void => {
    const list = f.examples[what] ?? (f.examples[what] = [])
    if (list.length < EXAMPLES && !list.includes(id)) list.push(id)
  }
  for (const [id, entries] of histories) {
    const awarded = new Set<unknown>()
    const started = new Set<unknown>()
    for (const e of entries) {
      if (e.type === 'awarded') awarded.add(e.body.attempt)
      else if (e.type === 'started') started.add(e.body.attempt)
      else if (e.type === 'adopted' || e.type === 'retried') {
        const cause = e.type === 'adopted' ? 'takeover' : retryCause(String(e.body.reason ?? ''))
        f.causes[cause]++
        example(cause, id)
        if (cause === 'lease expired' || cause === 'takeover') f.leasesLost++
      }
    }
    if (awarded.size > 1) f.retriedTasks++
    if (started.size > 1) { f.ranTwice++; example('ran twice', id) }
  }
  return f
}

/** One gauge's samples in a Prometheus text exposition: `name{labels} value` lines, labels as text. */
export function gaugeValues (text: string, name: string): Array<{ labels: string, value: number }> {
  const out: Array<{ labels: string, value: number }> = []
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const close = rest.indexOf('}')
    const labels = rest[0] === '{' && close > 0 ? rest.slice(1, close) : ''
    const value = Number(rest.slice(close > 0 ? close + 1 : 0).trim().split(' ')[0])
    if (Number.isFinite(value)) out.push({ labels, value })
  }
  return out
}

/** Running summary of sampled values: how many, max, and the p99 / median of the samples. */
export class Samples {
  readonly #values: number[] = []
  add (value: number): void { if (Number.isFinite(value)) this.#values.push(value) }
  get count (): number { return this.#values.length }
  quantile (q: number): number {
    if (this.#values.length === 0) return NaN
    const sorted = [...this.#values].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  }
  get max (): number { return this.#values.length === 0 ? NaN : Math.max(...this.#values) }
  get min (): number { return this.#values.length === 0 ? NaN : Math.min(...this.#values) }
}
