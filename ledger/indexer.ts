/**
 * The task index (task records, folded states, state and recency indexes) is derived from
 * the log. Local appends are indexed in the same batch as their log records, so a node's own
 * writes are visible to its queries at once. Entries from peers are indexed by this
 * background job: it runs when no write waits, reads the log from each author's index mark,
 * at most CHUNK entries at a time, and moves the marks in the same batch as the index, so a
 * crash resumes where it stopped. While a bulk sync runs, indexing waits until it ends:
 * catching up on entries comes first, states follow. Queries may lag the log by this backlog.
 */
import type { Logger } from '../base/index.js'
import type { TaskState } from './fold.js'
import { parseLogValue, SummaryNeededError, type BatchOp, type Head, type LedgerStore, type Stored } from './store.js'
import type { WriteQueue } from './write-queue.js'

const CHUNK = 2000
const INDEX_DELAY_MS = 3
/** After a failed fetch of the summaries some entries need, indexing tries again this much later. */
const SUMMARY_RETRY_MS = 1000

export class TaskIndexer {
  readonly #store: LedgerStore
  readonly #queue: WriteQueue
  readonly #heads: () => ReadonlyMap<string, Head>
  readonly #log: Logger
  #marks = new Map<string, number>()
  /** Marks of local items indexed in a write group that is not committed yet. */
  readonly #uncommitted = new Map<string, number>()
  #scheduled = false
  #deferrals = 0
  /** Called with the states that indexing changed. */
  onStates: ((states: readonly TaskState[]) => void) | undefined
  /** Fetches the summaries of compacted tasks known only by their state table rows (entries of them wait for it). */
  onSummariesNeeded: ((tasks: string[]) => Promise<void>) | undefined

  constructor (store: LedgerStore, queue: WriteQueue, heads: () => ReadonlyMap<string, Head>, logger: Logger) {
    this.#store = store
    this.#queue = queue
    this.#heads = heads
    this.#log = logger
  }

  async load (): Promise<void> {
    this.#marks = await this.#store.loadIndexed()
    this.#uncommitted.clear()
  }

  get marks (): ReadonlyMap<string, number> { return this.#marks }

  /** A snapshot moved `author`'s chain to `seq` (its entries up to there came as summaries). */
  jump (author: string, seq: number): void {
    this.#marks.set(author, Math.max(this.#marks.get(author) ?? 0, seq))
  }

  /** Entries indexed so far. */
  count (): number {
    let n = 0
    for (const seq of this.#marks.values()) n += seq
    return n
  }

  behind (): boolean {
    for (const [author, head] of this.#heads()) if ((this.#marks.get(author) ?? 0) < head.seq) return true
    return false
  }

  /** Hold background indexing (a bulk sync runs); call the returned function to release. */
  defer (): () => void {
    this.#deferrals++
    let released = false
    return () => {
      if (released) return
      released = true
      this.#deferrals--
      this.schedule()
    }
  }

  /**
   * Index ops for local items if they continue their author's indexed prefix (counting items
   * indexed earlier in the same, uncommitted write group), else none.
   */
  async indexNow (items: readonly Stored[], newTasks?: ReadonlySet<string>): Promise<{ ops: BatchOp[], states: TaskState[], commit: () => void }> {
    const first = items[0]
    const author = first?.entry.author
    if (first === undefined || author === undefined || (this.#uncommitted.get(author) ?? this.#marks.get(author) ?? 0) !== first.entry.seq - 1) {
      return { ops: [], states: [], commit: () => { this.schedule() } }
    }
    const last = items[items.length - 1].entry
    const marks = new Map([[last.author, last.seq]])
    this.#uncommitted.set(author, last.seq)
    try {
      const { ops, states } = await this.#store.indexOps(items, marks, newTasks)
      return {
        ops,
        states,
        commit: () => {
          this.#marks.set(author, Math.max(this.#marks.get(author) ?? 0, last.seq))
          if (this.#uncommitted.get(author) === last.seq) this.#uncommitted.delete(author)
        },
      }
    } catch (err) {
      this.#uncommitted.delete(author)
      // Left to the background job, which fetches the summaries first.
      if (err instanceof SummaryNeededError) return { ops: [], states: [], commit: () => { this.schedule() } }
      throw err
    }
  }

  /**
   * Index peers' entries soon: after INDEX_DELAY_MS, so entries arriving together (gossip
   * bursts) are indexed in one job, off the path of whatever the node is doing right now.
   */
  schedule (): void {
    if (this.#scheduled || this.#deferrals > 0 || !this.behind()) return
    this.#scheduled = true
    setTimeout(() => {
      this.#queue.runInBackground(async () => this.#job()).catch((err: Error) => {
        this.#scheduled = false
        this.#log.warn({ err: err.message }, 'task indexing failed; retrying on the next write')
      })
    }, INDEX_DELAY_MS)
  }

  async #job (): Promise<{ ops: BatchOp[], value: undefined, after: () => void }> {
    const items: Stored[] = []
    const marks = new Map<string, number>()
    for (const [author, head] of this.#heads()) {
      const from = (this.#marks.get(author) ?? 0) + 1
      if (from > head.seq || items.length >= CHUNK) continue
      const chunk = (await this.#store.rangeRaw(author, from, head.seq, CHUNK - items.length)).map(parseLogValue)
      if (chunk.length === 0) continue
      items.push(...chunk)
      marks.set(author, chunk[chunk.length - 1].entry.seq)
    }
    let indexed: { ops: BatchOp[], states: TaskState[] }
    try {
      indexed = items.length === 0 ? { ops: [], states: [] } : await this.#store.indexOps(items, marks)
    } catch (err) {
      if (!(err instanceof SummaryNeededError)) throw err
      return { ops: [], value: undefined, after: () => { this.#awaitSummaries(err.tasks) } }
    }
    const { ops, states } = indexed
    return {
      ops,
      value: undefined,
      after: () => {
        for (const [author, seq] of marks) this.#marks.set(author, seq)
        this.#scheduled = false
        if (states.length > 0) this.onStates?.(states)
        this.schedule()
      },
    }
  }

  /** Index again once the summaries `tasks` need came (or, failing that, a little later). */
  #awaitSummaries (tasks: string[]): void {
    const again = (): void => { this.#scheduled = false; this.schedule() }
    const fetch = this.onSummariesNeeded?.(tasks) ?? Promise.reject(new Error('no peer to fetch summaries from'))
    fetch.then(again, (err: Error) => {
      this.#log.debug({ tasks: tasks.length, err: err.message }, 'summaries for indexing not fetched; retrying')
      setTimeout(again, SUMMARY_RETRY_MS).unref()
    })
  }

  /** Resolve once every logged entry is indexed (bounded by `timeoutMs`). */
  async whenIndexed (timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.behind()) {
      if (Date.now() > deadline) throw new Error(`task index still behind after ${timeoutMs} ms`)
      this.schedule()
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  }
}
