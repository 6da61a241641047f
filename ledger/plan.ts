/**
 * Which tasks a compaction removes and where each author's chain is cut. Pure.
 *
 * Input: each author's entries above its current checkpoint (seq order, only indexed ones),
 * and the tasks that may go (terminal, and no entry of them at or after the horizon). Output:
 * per author the new checkpoint seq S (the longest prefix of its chain whose entries all
 * belong to tasks that go) and the tasks that go: those whose every entry lies within its
 * author's prefix. Shrinking the set can shorten a prefix, which can drop more tasks: repeat
 * until nothing changes (each round removes a task, so it ends). Deterministic: the same
 * entries and horizon give the same cut on every node.
 *
 * Limit: a task that never ends pins its authors' chains from its first entry on (their
 * later terminal tasks keep their entries until it ends, is cancelled or abandoned).
 */
export interface ChainEntry { seq: number, task: string }

export interface CompactionPlan {
  /** author -> new checkpoint seq (only authors whose checkpoint moves). */
  checkpoints: Map<string, number>
  tasks: Set<string>
}

export function planCompaction (chains: ReadonlyMap<string, readonly ChainEntry[]>, candidates: ReadonlySet<string>): CompactionPlan {
  const tasks = new Set(candidates)
  for (;;) {
    const cut = new Map<string, number>()
    const dropped = new Set<string>()
    for (const [author, chain] of chains) {
      let i = 0
      while (i < chain.length && tasks.has(chain[i].task)) i++
      if (i > 0) cut.set(author, chain[i - 1].seq)
      for (let j = i; j < chain.length; j++) if (tasks.has(chain[j].task)) dropped.add(chain[j].task)
    }
    if (dropped.size === 0) return { checkpoints: cut, tasks: onlyTouched(tasks, chains) }
    for (const task of dropped) tasks.delete(task)
  }
}

/** Candidates none of whose entries are above a checkpoint (already compacted ones without new entries) need no work. */
function onlyTouched (tasks: Set<string>, chains: ReadonlyMap<string, readonly ChainEntry[]>): Set<string> {
  const touched = new Set<string>()
  for (const chain of chains.values()) for (const e of chain) if (tasks.has(e.task)) touched.add(e.task)
  return touched
}
