/**
 * Entries from a peer that arrived ahead of their predecessors (gossip reorders), held in memory
 * until the chain reaches them, and the split of a batch into per-author consecutive runs.
 * Bounded: beyond MAX_HELD entries nothing more is held (anti-entropy fetches them later).
 * Pure bookkeeping: nothing here is durable; hash links are checked as entries are taken.
 */
import { idOf } from './crypto.js'
import type { Entry } from '../protocols/index.js'
import type { Stored } from './store.js'

const MAX_HELD = 10_000

export class HeldEntries {
  readonly #byAuthor = new Map<string, Map<number, Entry>>()
  #count = 0

  get count (): number { return this.#count }

  /** Holds a run (one author); returns how many entries are held now. */
  hold (run: readonly Entry[]): number {
    const author = run[0].author
    const held = this.#byAuthor.get(author) ?? new Map<number, Entry>()
    for (const e of run) {
      if (this.#count >= MAX_HELD) break
      if (!held.has(e.seq)) { held.set(e.seq, e); this.#count++ }
    }
    this.#byAuthor.set(author, held)
    return this.#count
  }

  /** Held entries that now continue the chain after `last`, hash links checked; older ones are dropped. */
  take (author: string, last: Stored): Stored[] {
    const held = this.#byAuthor.get(author)
    if (held === undefined) return []
    const out: Stored[] = []
    let prev = last
    for (let seq = prev.entry.seq + 1; held.has(seq); seq++) {
      const e = held.get(seq) as Entry
      held.delete(seq); this.#count--
      const id = idOf(e)
      if (e.prev !== prev.id) break
      prev = { id, entry: e }
      out.push(prev)
    }
    for (const seq of [...held.keys()]) if (seq <= prev.entry.seq) { held.delete(seq); this.#count-- }
    if (held.size === 0) this.#byAuthor.delete(author)
    return out
  }
}

/** Split entries into runs of one author with consecutive seqs (sorted, duplicates dropped). */
export function consecutiveRuns (entries: readonly Entry[]): Entry[][] {
  const byAuthor = new Map<string, Entry[]>()
  for (const e of entries) {
    const list = byAuthor.get(e.author)
    if (list === undefined) byAuthor.set(e.author, [e])
    else list.push(e)
  }
  const runs: Entry[][] = []
  for (const list of byAuthor.values()) {
    list.sort((a, b) => a.seq - b.seq)
    let run: Entry[] = []
    for (const e of list) {
      const last = run[run.length - 1]
      if (last !== undefined && e.seq === last.seq) continue
      if (last !== undefined && e.seq !== last.seq + 1) { runs.push(run); run = [] }
      run.push(e)
    }
    if (run.length > 0) runs.push(run)
  }
  return runs
}
