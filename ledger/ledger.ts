/**
 * TaskLedger: the node's replicated, signed, append-only task log.
 *
 * Guarantees:
 * - Durable: `append()` resolves only after its entry is fsynced (group commit: appends that
 *   arrive while a write is in flight share the next synced batch). Entries from peers are
 *   written without fsync; after a crash they are fetched again from peers.
 * - Atomic: an entry, its indexes, its author's head and its task's state are one batch.
 * - Verified: every entry is schema-checked, clock-checked (HLC at most 60 s ahead), and
 *   signature- and chain-checked before it is applied. A run of one author's entries costs one
 *   signature check (the last); the hash links vouch for the rest.
 * - Eventually consistent: nodes that hold the same entries derive the same task states
 *   (fold.ts). Entries whose predecessors are missing are held (bounded) and requested.
 *   Local appends are indexed in their own batch (a node reads its own writes at once);
 *   peers' entries reach the task index in the background (indexer.ts), shortly after.
 * - A malicious peer can withhold entries and send garbage (rejected), but cannot forge
 *   another node's entries, reorder a chain, or rewrite history: two different entries with
 *   one author and seq (equivocation) are both kept as evidence, the second is not applied.
 */
import { EventEmitter } from 'node:events'
import type { PrivateKey } from '@libp2p/interface'
import type { ClassicLevel } from 'classic-level'
import { LEDGER_VERSION, validateEntry, type Bodies, type Entry, type EntryType } from '../protocols/index.js'
import { InvalidMessageError, type Logger } from '../base/index.js'
import { createEntrySigner, verifyRun, verifySignature, type EntrySigner } from './crypto.js'
import { consecutiveRuns, HeldEntries } from './held.js'
import { HybridClock } from './hlc.js'
import { LedgerStore, type BatchOp, type Head, type Stored } from './store.js'
import { canonicalOrder, type TaskState } from './fold.js'
import { WriteQueue } from './write-queue.js'
import { TaskIndexer } from './indexer.js'
import { LedgerRetention } from './retention.js'
import type { LedgerEvents } from './events.js'

export type { LedgerEvents }

export type ReceiveOutcome = 'applied' | 'duplicate' | 'held' | 'rejected' | 'equivocation'

export interface LedgerComponents {
  db: ClassicLevel<string, string>
  privateKey: PrivateKey
  peerId: string
  logger: Logger
  now?: () => number
}

export class TaskLedger {
  readonly store: LedgerStore
  readonly clock: HybridClock
  readonly stats = { appended: 0, applied: 0, duplicates: 0, rejected: 0, held: 0, equivocations: 0 }
  readonly events = new EventEmitter<LedgerEvents>()
  readonly #c: LedgerComponents
  readonly #queue: WriteQueue
  readonly #indexer: TaskIndexer
  readonly retention: LedgerRetention // compaction and snapshot join
  /** Fetches the full summaries of compacted tasks known only by their state table rows (set by LedgerSync; table.ts). */
  fetchSummaries: ((tasks: string[]) => Promise<void>) | undefined
  #heads = new Map<string, Head>()
  /** Entries that arrived ahead of their predecessors, until the chain reaches them. */
  readonly #held = new HeldEntries()
  readonly #equivocators = new Set<string>()
  readonly #sign: EntrySigner
  /** Local appends waiting for the next write group. */
  #appends: Array<{ type: EntryType, task: string, body: Record<string, unknown>, newTask: boolean, resolve: (s: Stored) => void, reject: (e: unknown) => void }> = []

  constructor (components: LedgerComponents) {
    this.#c = components
    this.store = new LedgerStore(components.db)
    this.clock = new HybridClock(components.now ?? Date.now)
    this.#sign = createEntrySigner(components.privateKey)
    this.#queue = new WriteQueue(async (ops, sync) => this.store.write(ops, sync), async () => {
      // A failed batch advanced the in-memory heads and marks for nothing: reload them.
      this.#heads = await this.store.loadHeads()
      await this.#indexer.load()
    }, err => { components.logger.error({ err: (err as Error).message }, 'a ledger listener failed') })
    this.#indexer = new TaskIndexer(this.store, this.#queue, () => this.#heads, components.logger)
    this.#indexer.onStates = states => { this.events.emit('states', states) }
    this.#indexer.onSummariesNeeded = async tasks => { if (this.fetchSummaries === undefined) throw new Error('no summary source'); await this.fetchSummaries(tasks) }
    this.retention = new LedgerRetention({
      store: this.store, queue: this.#queue, heads: () => this.#heads, marks: () => this.#indexer.marks, logger: components.logger, now: components.now ?? Date.now, privateKey: components.privateKey, peerId: components.peerId,
      jumped: (author, head) => { this.#heads.set(author, head); this.#indexer.jump(author, head.seq) },
    })
  }

  async open (): Promise<void> {
    this.#heads = await this.store.loadHeads()
    await Promise.all([this.#indexer.load(), this.retention.load()])
    this.#indexer.schedule()
    for (const e of await this.store.evidence()) this.#equivocators.add(e.author)
    const own = this.#heads.get(this.#c.peerId)
    if (own !== undefined) {
      // The head entry itself, or the checkpoint that stands for it after a compaction.
      const [last] = await this.store.range(this.#c.peerId, own.seq, own.seq, 1)
      const hlc = last?.entry.hlc ?? this.retention.checkpoints.get(this.#c.peerId)?.entry.hlc
      if (hlc !== undefined) this.clock.observe(hlc)
    }
  }

  async close (): Promise<void> {
    await this.#queue.drain()
  }

  versionVector (): Record<string, number> {
    return Object.fromEntries([...this.#heads].map(([author, head]) => [author, head.seq]))
  }

  /** Entries folded into the task index so far (equals entryCount() once indexing caught up). */
  indexedCount (): number {
    return this.#indexer.count()
  }

  /** Resolve once every entry on disk is reflected in task states. */
  async whenIndexed (timeoutMs?: number): Promise<void> {
    await this.#indexer.whenIndexed(timeoutMs)
  }

  /** Hold background indexing during a bulk sync; call the returned function to release. */
  deferIndexing (): () => void {
    return this.#indexer.defer()
  }

  entryCount (): number {
    let n = 0
    for (const head of this.#heads.values()) n += head.seq
    return n
  }

  get equivocators (): string[] { return [...this.#equivocators] }

  /**
   * Append a local entry; resolves once it is on disk (appends made meanwhile share a group and
   * one fsync). `newTask`: the caller made the id just now (a submission): no record to read.
   */
  async append<T extends EntryType> (type: T, task: string, body: Bodies[T], options: { signal?: AbortSignal, newTask?: boolean } = {}): Promise<Stored> {
    options.signal?.throwIfAborted()
    const done = new Promise<Stored>((resolve, reject) => {
      this.#appends.push({ type, task, body: body as Record<string, unknown>, newTask: options.newTask === true, resolve, reject })
    })
    if (this.#appends.length === 1) {
      void this.#queue.run(true, async () => this.#flushAppends()).catch(() => {})
    }
    return done
  }

  async #flushAppends (): Promise<{ ops: BatchOp[], value: undefined, after: () => void, failed: (err: unknown) => void }> {
    const batch = this.#appends
    this.#appends = []
    const author = this.#c.peerId
    const items: Stored[] = []
    const accepted: typeof batch = []
    let head = this.#heads.get(author)
    for (const job of batch) {
      try {
        const stored = this.#sign({ v: LEDGER_VERSION, author, seq: (head?.seq ?? 0) + 1, prev: head?.id ?? null, hlc: this.clock.tick(), type: job.type, task: job.task, body: job.body })
        validateEntry(stored.entry) // what peers would reject is never written
        head = { seq: stored.entry.seq, id: stored.id }
        items.push(stored)
        accepted.push(job)
      } catch (err) {
        job.reject(err)
      }
    }
    let ops: BatchOp[]
    let index: Awaited<ReturnType<TaskIndexer['indexNow']>>
    try {
      ops = this.#logOps(items)
      index = await this.#indexer.indexNow(items, new Set(accepted.filter(job => job.newTask).map(job => job.task)))
    } catch (err) {
      for (const job of accepted) job.reject(err)
      throw err
    }
    return {
      ops: [...ops, ...index.ops],
      value: undefined,
      after: () => {
        index.commit()
        this.stats.appended += items.length
        accepted.forEach((job, i) => job.resolve(items[i]))
        if (items.length > 0) this.events.emit('applied', items, true)
        if (index.states.length > 0) this.events.emit('states', index.states)
      },
      failed: err => { for (const job of accepted) job.reject(err) },
    }
  }

  /**
   * Verify and apply entries from a peer (any authors, any order). Returns one outcome per
   * distinct author run. Never throws for bad input: it is counted and reported. `durable`:
   * resolve only once the entries (and everything written before them) are fsynced.
   */
  async receive (entries: readonly Entry[], from?: string, options: { durable?: boolean } = {}): Promise<ReceiveOutcome[]> {
    const outcomes: ReceiveOutcome[] = []
    for (const run of consecutiveRuns(entries)) outcomes.push(await this.#receiveRun(run, from, options.durable === true))
    if (options.durable === true && outcomes.every(o => o === 'duplicate')) await this.flush()
    return outcomes
  }

  /** Fsync everything written so far (entries received from peers are written without). */
  async flush (): Promise<void> {
    await this.#queue.run(true, async () => ({ ops: [this.store.syncMarkOp()], value: undefined }))
  }

  async #receiveRun (run: Entry[], from: string | undefined, durable: boolean): Promise<ReceiveOutcome> {
    const author = run[0].author
    try {
      for (const e of run) this.clock.check(e.hlc)
      const ids = verifyRun(run)
      return await this.#queue.run(durable, async () => {
        const head = this.#heads.get(author)
        const headSeq = head?.seq ?? 0
        // Entries at or below the head: replays, or equivocation if they differ. The run is
        // hash-linked, so if its last overlapping entry is ours, all before it are too.
        // Compacted ones (at or below the checkpoint) are replays: nothing is left to compare.
        let start = 0
        const floor = this.retention.floor(author)
        while (start < run.length && run[start].seq <= headSeq) start++
        if (start > 0 && run[start - 1].seq > floor && await this.store.idAt(author, run[start - 1].seq) !== ids[start - 1]) {
          for (let i = 0; i < start; i++) {
            if (run[i].seq <= floor) continue
            const ours = await this.store.idAt(author, run[i].seq)
            if (ours !== ids[i]) return this.#equivocation(run[i], ids[i], ours)
          }
        }
        if (start === run.length) { this.stats.duplicates++; return { ops: [], value: 'duplicate' as const } }
        const first = run[start]
        if (first.seq > headSeq + 1) { this.stats.held = this.#held.hold(run.slice(start)); this.events.emit('gap', author, from); return { ops: [], value: 'held' as const } }
        if (first.prev !== (head?.id ?? null)) return this.#equivocation(first, ids[start], undefined)
        const items = run.slice(start).map((entry, i) => ({ id: ids[start + i], entry }))
        const chained = [...items, ...this.#held.take(author, items[items.length - 1])]
        this.stats.held = this.#held.count
        const ops = this.#logOps(chained)
        return { ops, value: 'applied' as const, after: () => { this.stats.applied += chained.length; this.events.emit('applied', chained, false); this.#indexer.schedule() } }
      })
    } catch (err) {
      this.stats.rejected++
      this.#c.logger.warn({ author, from, err: (err as Error).message }, 'rejected ledger entries')
      if (err instanceof InvalidMessageError) return 'rejected'
      throw err
    }
  }

  /** Log ops for contiguous verified items; advances the in-memory heads and clock. */
  #logOps (items: Stored[]): BatchOp[] {
    const touched = new Map<string, Head>()
    for (const item of items) {
      touched.set(item.entry.author, { seq: item.entry.seq, id: item.id })
      this.clock.observe(item.entry.hlc)
    }
    const ops = this.store.logOps(items, touched)
    for (const [author, head] of touched) this.#heads.set(author, head)
    return ops
  }

  async #equivocation (entry: Entry, id: string, oursId: string | undefined): Promise<{ ops: BatchOp[], value: 'equivocation' }> {
    if (!verifySignature(entry)) throw new InvalidMessageError(`forged entry at seq ${entry.seq} of ${entry.author}`)
    const theirs: Stored = { id, entry }
    const [ours] = oursId === undefined
      ? await this.store.range(entry.author, entry.seq - 1, entry.seq - 1, 1)
      : await this.store.range(entry.author, entry.seq, entry.seq, 1)
    this.#equivocators.add(entry.author)
    this.stats.equivocations++
    this.#c.logger.warn({ author: entry.author, seq: entry.seq }, 'equivocation: two different entries for one author and seq; kept as evidence')
    return { ops: ours === undefined ? [] : this.store.evidenceOps(ours, theirs), value: 'equivocation' }
  }

  /** One entry by its id (entries from peers once indexed). */
  async entry (id: string): Promise<Stored | undefined> {
    return this.store.byId(id)
  }

  /** The task's folded state (`compacted: true` after a compaction); a stub's summary is fetched first, else its row's state (`partial: true`). */
  async task (id: string): Promise<TaskState | undefined> {
    let record = await this.store.task(id)
    if (record?.state?.partial === true && this.fetchSummaries !== undefined) {
      await this.fetchSummaries([id]).catch(() => {})
      record = await this.store.task(id)
    }
    if (record?.state == null) return undefined
    return record.summary === undefined ? record.state : { ...record.state, compacted: true }
  }

  /** The task's verified entries in causal (canonical HLC) order. */
  async history (id: string): Promise<Stored[] | undefined> {
    const record = await this.store.task(id)
    return record === undefined ? undefined : [...record.entries].sort((a, b) => canonicalOrder(a.entry, b.entry))
  }

  async tasksByState (state: TaskState['state'], limit = 100): Promise<TaskState[]> {
    return this.#states(await this.store.tasksByState(state, limit))
  }

  async recentTasks (limit = 100): Promise<TaskState[]> {
    return this.#states(await this.store.recentTasks(limit))
  }

  async #states (ids: string[]): Promise<TaskState[]> {
    return (await Promise.all(ids.map(async id => this.task(id)))).filter((s): s is TaskState => s !== undefined)
  }
}
