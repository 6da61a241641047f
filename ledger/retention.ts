/**
 * LedgerRetention: compaction of old terminal tasks (compact.ts) and snapshot join
 * (snapshot.ts) for one TaskLedger, through its write queue, so they are ordered with every
 * other change to the ledger and each is one atomic batch.
 *
 * Guarantees: a compaction never removes an entry that is not indexed, nor one of a task
 * that is not terminal, nor one at or after the horizon; chain heads and equivocation
 * evidence are never removed; each author's checkpoint entry is kept (signed by its author,
 * so entries after it still verify). Pages of summaries from peers are checked (a trusted
 * signer, its signature over the page) and checkpoints verified before anything of them is
 * written; a forged one rejects the whole page and aborts the snapshot.
 */
import { EventEmitter } from 'node:events'
import type { Logger } from '../base/index.js'
import type { PrivateKey } from '@libp2p/interface'
import { InvalidMessageError } from '../base/index.js'
import { encodeTablePage, type Entry, type SnapshotPage, type TablePage } from '../protocols/index.js'
import { compactionOps, compactionTotals, type CompactionResult, type CompactionTotals } from './compact.js'
import { checkpointOps, summaryOps, verifyCheckpoint } from './snapshot.js'
import { EXPIRY_RANGES, expiryOps } from './expire.js'
import type { Summary } from './summary.js'
import { openPage, signPage } from './snapshot-page.js'
import { openTablePage, tableOps, tableValue } from './table.js'
import { readRecords } from './records.js'
import { createBytesSigner } from './crypto.js'
import { P, END, type BatchOp, type Head, type LedgerStore, type Stored } from './store.js'
import type { WriteQueue } from './write-queue.js'

export interface RetentionComponents {
  store: LedgerStore
  queue: WriteQueue
  heads: () => ReadonlyMap<string, Head>
  /** How far the task index has read each author's log. */
  marks: () => ReadonlyMap<string, number>
  /** A checkpoint from a peer moved an author's head (and index mark) to `head`. */
  jumped: (author: string, head: Head) => void
  logger: Logger
  now: () => number
  /** The node's identity: it signs the snapshot pages it serves. */
  privateKey: PrivateKey
  peerId: string
}

/** Summaries expired per batch (one write), and batches per `expire` call. */
const EXPIRY_BATCH = 5000
const EXPIRY_ROUNDS = 20

export interface RetentionEvents {
  /** A compaction replaced these tasks' entries by summaries (blob GC: their results are referenced only by summaries now). */
  compacted: [tasks: readonly Summary[]]
}

export class LedgerRetention {
  readonly events = new EventEmitter<RetentionEvents>()
  readonly #c: RetentionComponents
  #checkpoints = new Map<string, Stored>()
  readonly #sign: (bytes: Uint8Array) => string

  constructor (components: RetentionComponents) {
    this.#c = components
    this.#sign = createBytesSigner(components.privateKey)
  }

  async load (): Promise<void> {
    this.#checkpoints = await this.#c.store.loadCheckpoints()
  }

  /** Each author's checkpoint entry: its chain at or below it is compacted. */
  get checkpoints (): ReadonlyMap<string, Stored> { return this.#checkpoints }

  /** Highest compacted seq of `author` (0: none). */
  floor (author: string): number {
    return this.#checkpoints.get(author)?.entry.seq ?? 0
  }

  async totals (): Promise<CompactionTotals> {
    return compactionTotals(this.#c.store)
  }

  /** Compact every terminal task with no entry at or after `horizon` (ms since the epoch), as far as the chains allow. */
  async compact (horizon: number, options: { signal?: AbortSignal } = {}): Promise<CompactionResult> {
    options.signal?.throwIfAborted()
    const compacted: Summary[] = []
    const result = await this.#c.queue.runInBackground(async () => {
      options.signal?.throwIfAborted()
      const { ops, result, summaries } = await compactionOps({ store: this.#c.store, heads: this.#c.heads(), marks: this.#c.marks(), checkpoints: this.#checkpoints, horizon, now: this.#c.now() })
      compacted.push(...summaries)
      return {
        ops,
        value: result,
        after: () => {
          for (const [author, stored] of result.checkpoints) this.#checkpoints.set(author, stored)
          if (result.entries > 0) this.#c.logger.info({ tasks: compacted.length, entries: result.entries }, 'ledger compacted')
          if (compacted.length > 0) this.events.emit('compacted', compacted)
        },
      }
    })
    if (result.entries > 0 || compacted.length > 0) await this.#reclaim([P.log, P.id, P.task].map(prefix => [prefix, prefix + END] as const))
    return result
  }

  /**
   * Expire the summaries of compacted tasks last changed before `horizon` (expire.ts), in
   * batches of EXPIRY_BATCH, at most EXPIRY_ROUNDS of them per call. Resolves with how many expired.
   */
  async expire (horizon: number, options: { signal?: AbortSignal } = {}): Promise<number> {
    let total = 0
    for (let round = 0; round < EXPIRY_ROUNDS; round++) {
      options.signal?.throwIfAborted()
      const { expired, more } = await this.#c.queue.runInBackground(async () => {
        const found = await expiryOps(this.#c.store.db, horizon, EXPIRY_BATCH)
        if (found.expired > 0) {
          const totals = await compactionTotals(this.#c.store)
          found.ops.push({ type: 'put', key: P.compaction, value: JSON.stringify({ ...totals, expired: (totals.expired ?? 0) + found.expired } satisfies CompactionTotals) })
        }
        return { ops: found.ops, value: found }
      })
      total += expired
      if (!more || expired === 0) break
    }
    if (total > 0) {
      this.#c.logger.info({ tasks: total }, 'summaries expired')
      await this.#reclaim(EXPIRY_RANGES)
    }
    return total
  }

  /**
   * LevelDB keeps deleted records on disk until a compaction of their files: compact the key
   * ranges a ledger compaction deletes from (all small: they hold only what is live), so the
   * space comes back now rather than whenever LevelDB gets to it. One `compactRange` over the
   * span of the ranges (the keys between them are small too; tombstones, L:expired, and
   * evidence lie outside it): each call adds ~1 KB to LevelDB's own LOG and a record to its
   * MANIFEST, which grow until the database is next opened (a soak compacting every 10 s
   * showed them as the steadiest growth of the folder with one call per range).
   */
  async #reclaim (ranges: ReadonlyArray<readonly [string, string]>): Promise<void> {
    const from = ranges.map(r => r[0]).sort()[0]
    const to = ranges.map(r => r[1]).sort().at(-1)
    if (from === undefined || to === undefined) return
    try {
      await this.#c.store.db.compactRange(from, to)
    } catch (err) {
      // The database closing (node stopping) ends it: LevelDB reclaims the space later itself.
      this.#c.logger.warn({ err: (err as Error).message }, 'reclaiming the space of compacted entries failed')
    }
  }

  /** A page frame of stored summaries (JSON as stored) signed by this node, for a peer that joins. */
  signPage (summaries: readonly string[]): Uint8Array {
    return signPage(this.#sign, this.#c.peerId, summaries)
  }

  /**
   * Check and apply a page of summaries from a peer: its signer must be `trusted` (a member)
   * and its signature must hold; throws InvalidMessageError otherwise, writing none of it.
   * Resolves with the summaries applied (a summary this node already holds is skipped).
   */
  async receivePage (page: SnapshotPage, trusted: (peerId: string) => boolean): Promise<number> {
    const summaries = openPage(page, trusted)
    return this.#c.queue.run(false, async () => {
      const { ops, applied, added } = await summaryOps(this.#c.store, summaries)
      return { ops: [...ops, ...await this.#countOps(added)], value: applied }
    })
  }

  /** A state table page frame of [task, stored row] pairs, signed by this node, for a peer that joins. */
  signTable (rows: ReadonlyArray<readonly [string, string]>): Uint8Array {
    return encodeTablePage(rows, this.#sign, this.#c.peerId)
  }

  /**
   * Check and apply a page of state table rows from a peer (trusted signer, its signature,
   * each row's shape), writing none of it otherwise (InvalidMessageError). Resolves with the
   * tasks added (table.ts tableOps); their summaries come later (summary-fetch.ts).
   */
  async receiveTablePage (page: TablePage, trusted: (peerId: string) => boolean): Promise<number> {
    const rows = openTablePage(page, trusted)
    return this.#c.queue.run(false, async () => {
      const { ops, added } = await tableOps(this.#c.store.db, rows)
      return { ops: [...ops, ...await this.#countOps(added)], value: added }
    })
  }

  /** The op that adds `added` tasks to the compaction totals (none if 0). */
  async #countOps (added: number): Promise<BatchOp[]> {
    if (added === 0) return []
    const totals = await compactionTotals(this.#c.store)
    return [{ type: 'put', key: P.compaction, value: JSON.stringify({ ...totals, tasks: totals.tasks + added } satisfies CompactionTotals) }]
  }

  /**
   * Check and apply full summaries of tasks this node holds a state table row of: the page
   * as receivePage checks it, and each summary must hash to its row's digest and agree with
   * the row (InvalidMessageError otherwise, none of it written). A stub gets its summary; a
   * task with a record of its own goes through summaryOps. Resolves with the summaries applied
   * and the last task of the page. `background`: as a background job of the write queue (the
   * backfill), not ahead of appends.
   */
  async receiveSummaries (page: SnapshotPage, trusted: (peerId: string) => boolean, options: { background?: boolean } = {}): Promise<{ applied: number, last: string }> {
    const summaries = openPage(page, trusted)
    const last = summaries[summaries.length - 1].summary.task
    const job = async (): Promise<{ ops: BatchOp[], value: { applied: number, last: string } }> => {
      const ids = summaries.map(s => s.summary.task)
      const rows = await this.#c.store.db.getMany(ids.map(id => P.table + id))
      summaries.forEach(({ summary, json }, i) => {
        if (rows[i] !== tableValue(summary, json)) throw new InvalidMessageError(`summary of ${summary.task} does not match its state table row`)
      })
      const records = await readRecords(this.#c.store.db, ids)
      const ops: BatchOp[] = []
      const own = summaries.filter((_, i) => records[i] !== undefined)
      summaries.forEach(({ summary, json }, i) => { if (records[i] === undefined) ops.push({ type: 'put', key: P.summary + summary.task, value: json }) })
      // Counted in the totals when their rows came.
      const merged = await summaryOps(this.#c.store, own)
      ops.push(...merged.ops)
      return { ops, value: { applied: summaries.length - own.length + merged.applied, last } }
    }
    return options.background === true ? this.#c.queue.runInBackground(job) : this.#c.queue.run(false, job)
  }

  /** Verify and apply checkpoint entries from a peer; throws InvalidMessageError on a forged one, writing none. */
  async receiveCheckpoints (entries: readonly Entry[]): Promise<number> {
    const checkpoints = entries.map(verifyCheckpoint)
    return this.#c.queue.run(false, async () => {
      const ops: BatchOp[] = []
      const moved: Stored[] = []
      for (const checkpoint of checkpoints) {
        const author = checkpoint.entry.author
        const more = await checkpointOps(this.#c.store, checkpoint, this.#c.heads().get(author), this.floor(author))
        if (more === undefined) continue
        ops.push(...more)
        moved.push(checkpoint)
      }
      return {
        ops,
        value: moved.length,
        after: () => {
          for (const c of moved) {
            this.#checkpoints.set(c.entry.author, c)
            this.#c.jumped(c.entry.author, { seq: c.entry.seq, id: c.id })
          }
        },
      }
    })
  }
}
