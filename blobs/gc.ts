/**
 * Blob garbage collection: what to remove (`planCollection`, pure) and the collector that
 * runs it over the store (`BlobCollector`: every `intervalMs`, and soon after a put takes the
 * store over its cap).
 *
 * Never removed: a pinned blob; a blob the references call `kept` (a build's best files while
 * its job is kept) or `active` (referenced by a pending, awarded or running task); a blob put
 * within the last `freshMs` (it may belong to a task not in the ledger yet).
 * Removed, the rest of them:
 * 1. a blob that no task in the ledger references (`live`), stored more than
 *    `keepUnreferencedMs` ago (0: never by this rule): once compaction removes a task, its
 *    blobs are no longer referenced and go after the window;
 * 2. while the store is over `maxBytes`: the oldest first (by the time it was last put),
 *    referenced by terminal tasks or not. When only protected blobs are left, the store stays
 *    over its cap and the plan says so (`overCap`).
 * The references are read before the store is listed, so a reference written meanwhile only
 * protects blobs younger than `freshMs` (the default, 5 minutes, covers it).
 */
import type { Logger } from '../base/index.js'
import type { BlobPins } from './pins.js'
import type { BlobStore, StoredBlob } from './store.js'
import { BlobOptionsError } from './errors.js'

/** Digests that tasks still reference; implemented over the ledger by the node. */
export interface BlobReferences {
  referenced: (options: { signal: AbortSignal }) => Promise<ReferencedBlobs>
}

export interface ReferencedBlobs {
  /** Referenced by any task the ledger still holds (not compacted away). */
  live: ReadonlySet<string>
  /** Referenced by a task that is not terminal (pending, awarded, running). */
  active: ReadonlySet<string>
  /** Kept as if pinned: a build's best files while its job is kept. */
  kept: ReadonlySet<string>
}

export interface CollectionPolicy {
  maxBytes: number
  keepUnreferencedMs: number
  freshMs: number
}

export type RemovalReason = 'unreferenced' | 'over-cap'

export interface CollectionPlan {
  remove: Array<{ digest: string, size: number, reason: RemovalReason }>
  bytesBefore: number
  bytesAfter: number
  /** Still over the cap after the removals: every remaining blob is protected. */
  overCap: boolean
}

/** Which blobs to remove, given what is stored, pinned and referenced at `now`. Pure. */
export function planCollection (blobs: readonly StoredBlob[], pinned: ReadonlySet<string>, refs: ReferencedBlobs, policy: CollectionPolicy, now: number): CollectionPlan {
  const bytesBefore = blobs.reduce((sum, b) => sum + b.size, 0)
  const remove: CollectionPlan['remove'] = []
  const protectedBlob = (b: StoredBlob): boolean => pinned.has(b.digest) || refs.kept.has(b.digest) || refs.active.has(b.digest) || b.storedAt > now - policy.freshMs
  const left: StoredBlob[] = []
  let bytes = bytesBefore
  for (const b of blobs) {
    if (!protectedBlob(b) && policy.keepUnreferencedMs > 0 && !refs.live.has(b.digest) && b.storedAt <= now - policy.keepUnreferencedMs) {
      remove.push({ digest: b.digest, size: b.size, reason: 'unreferenced' })
      bytes -= b.size
    } else {
      left.push(b)
    }
  }
  if (bytes > policy.maxBytes) {
    const oldestFirst = left.filter(b => !protectedBlob(b)).sort((a, b) => a.storedAt - b.storedAt || a.digest.localeCompare(b.digest))
    for (const b of oldestFirst) {
      if (bytes <= policy.maxBytes) break
      remove.push({ digest: b.digest, size: b.size, reason: 'over-cap' })
      bytes -= b.size
    }
  }
  return { remove, bytesBefore, bytesAfter: bytes, overCap: bytes > policy.maxBytes }
}

export interface BlobCollectorComponents { store: BlobStore, pins: BlobPins, references: BlobReferences, logger: Logger }

export interface BlobCollectorInit extends Partial<CollectionPolicy> {
  maxBytes: number
  /** How often a collection runs (default 10 minutes). */
  intervalMs?: number
}

export interface CollectionStats {
  runs: number
  removed: number
  removedBytes: number
  storedBytes: number
  storedBlobs: number
  overCap: boolean
  lastRunAt: number | null
}

export class BlobCollector {
  readonly stats: CollectionStats = { runs: 0, removed: 0, removedBytes: 0, storedBytes: 0, storedBlobs: 0, overCap: false, lastRunAt: null }
  readonly policy: Readonly<CollectionPolicy>
  readonly #c: BlobCollectorComponents
  readonly #intervalMs: number
  #timer: NodeJS.Timeout | undefined
  #running: Promise<CollectionPlan> | undefined
  #stopping = new AbortController()

  constructor (components: BlobCollectorComponents, init: BlobCollectorInit) {
    this.#c = components
    const policy = { keepUnreferencedMs: 7 * 86_400_000, freshMs: 300_000, ...init }
    const intervalMs = init.intervalMs ?? 600_000
    const problems: string[] = []
    if (!Number.isSafeInteger(policy.maxBytes) || policy.maxBytes < 1) problems.push(`maxBytes must be an integer >= 1, not ${policy.maxBytes}`)
    for (const [key, value] of [['keepUnreferencedMs', policy.keepUnreferencedMs], ['freshMs', policy.freshMs]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) problems.push(`${key} must be an integer >= 0, not ${value}`)
    }
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) problems.push(`intervalMs must be an integer >= 1, not ${intervalMs}`)
    if (problems.length > 0) throw new BlobOptionsError(`invalid blob collection options: ${problems.join('; ')}`, { details: problems })
    this.policy = Object.freeze({ maxBytes: policy.maxBytes, keepUnreferencedMs: policy.keepUnreferencedMs, freshMs: policy.freshMs })
    this.#intervalMs = intervalMs
  }

  start (): void {
    this.#stopping = new AbortController()
    // A first run soon: it measures the store (and enforces a cap lowered since the last start).
    this.#schedule(Math.min(this.#intervalMs, 5_000))
  }

  async stop (): Promise<void> {
    this.#stopping.abort()
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#running?.catch(() => {})
  }

  /**
   * A blob of `size` bytes was written: collect soon when that takes the store over its cap,
   * unless the last run, less than `intervalMs / 10` ago, found only protected blobs to keep
   * (then listing the store again on every put would only burn the disk).
   */
  noteStored (size: number): void {
    this.stats.storedBytes += size
    const futile = this.stats.overCap && this.stats.lastRunAt !== null && Date.now() - this.stats.lastRunAt < this.#intervalMs / 10
    if (this.stats.storedBytes > this.policy.maxBytes && this.#running === undefined && !futile && !this.#stopping.signal.aborted) this.#schedule(0)
  }

  /** Runs one collection now (or joins the one running) and returns its plan, carried out. */
  async collect (options: { signal?: AbortSignal } = {}): Promise<CollectionPlan> {
    this.#running ??= this.#collect(options.signal === undefined ? this.#stopping.signal : AbortSignal.any([options.signal, this.#stopping.signal]))
      .finally(() => { this.#running = undefined })
    return this.#running
  }

  async #collect (signal: AbortSignal): Promise<CollectionPlan> {
    const refs = await this.#c.references.referenced({ signal })
    const stored: StoredBlob[] = []
    for await (const blob of this.#c.store.list({ signal })) stored.push(blob)
    const plan = planCollection(stored, this.#c.pins.digests(), refs, this.policy, Date.now())
    let removedBytes = 0
    for (const { digest, size, reason } of plan.remove) {
      signal.throwIfAborted()
      // Pinned since the plan was made: keep it.
      if (this.#c.pins.has(digest)) continue
      if (await this.#c.store.remove(digest)) {
        removedBytes += size
        this.stats.removed++
        this.#c.logger.debug({ digest, size, reason }, 'blob removed')
      }
    }
    Object.assign(this.stats, {
      runs: this.stats.runs + 1, removedBytes: this.stats.removedBytes + removedBytes, storedBytes: plan.bytesBefore - removedBytes,
      storedBlobs: stored.length - plan.remove.length, overCap: plan.overCap, lastRunAt: Date.now(),
    })
    if (plan.remove.length > 0) this.#c.logger.info({ removed: plan.remove.length, removedBytes, storedBytes: this.stats.storedBytes }, 'blob garbage collected')
    if (plan.overCap) this.#c.logger.warn({ storedBytes: plan.bytesAfter, maxBytes: this.policy.maxBytes }, 'blob store over its cap: every blob left is pinned, kept or in use')
    return plan
  }

  #schedule (delayMs: number): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.collect().catch(err => {
        if (!this.#stopping.signal.aborted) this.#c.logger.warn({ err: (err as Error).message }, 'blob garbage collection failed')
      }).finally(() => { if (!this.#stopping.signal.aborted) this.#schedule(this.#intervalMs) })
    }, delayMs)
    this.#timer.unref()
  }
}
