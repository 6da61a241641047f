/**
 * Which blobs the ledger's tasks reference, for blob garbage collection (blobs/gc.ts): every
 * 64-hex string in the body of any entry of a task is taken as a blob digest (result digests,
 * checkpoint files, a build's files, corpus references in a spec...), so a new kind that
 * refers to blobs is covered without a change here. A false match (a hash that names no
 * blob) only protects nothing. Read from today's ledger: every task it holds; when ledger
 * compaction removes tasks, what a summary still references is for it to add here.
 * Cost: one pass over the task index per collection (the collector runs every few minutes).
 */
import { isTerminal, type TaskLedger } from '../ledger/index.js'
import type { BlobReferences, ReferencedBlobs } from '../blobs/index.js'

const DIGEST = /^[0-9a-f]{64}$/

export function ledgerBlobReferences (ledger: Pick<TaskLedger, 'store'>): BlobReferences {
  return {
    referenced: async ({ signal }): Promise<ReferencedBlobs> => {
      const live = new Set<string>()
      const active = new Set<string>()
      const kept = new Set<string>()
      for await (const { state, entries } of ledger.store.taskRecords(signal)) {
        if (state === null) continue
        const open = !isTerminal(state.state)
        for (const { entry } of entries) {
          collectDigests(entry.body, digest => {
            live.add(digest)
            if (open) active.add(digest)
          })
        }
        // A build's best files (its result) are kept as if pinned while the task is kept.
        if (state.kind === 'build') {
          for (const attempt of state.attempts) collectDigests(attempt.result?.files, digest => kept.add(digest))
        }
      }
      return { live, active, kept }
    },
  }
}

/** Calls `found` with every 64-hex string inside `value` (objects and arrays, any depth). */
export function collectDigests (value: unknown, found: (digest: string) => void, depth = 0): void {
  if (typeof value === 'string') {
    if (value.length === 64 && DIGEST.test(value)) found(value)
  } else if (depth < 32 && value !== null && typeof value === 'object') {
    for (const item of Array.isArray(value) ? value : Object.values(value)) collectDigests(item, found, depth + 1)
  }
}
