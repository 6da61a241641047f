/**
 * Full compaction summaries by task id (LEDGER_SUMMARIES_PROTOCOL), for a node that joined on
 * a state table (table.ts): the rows made it ready; the summaries come after, so that
 * `GET /v1/tasks/:id`, its history and the fold of late entries have them.
 * - Serve: one request of up to SNAPSHOT_PAGE_SUMMARIES task ids, answered by one page of the
 *   summaries this node holds (as stored, signed by this node, up to SNAPSHOT_PAGE_BYTES).
 * - On demand (`want`): the ids asked for in the same tick go in one request, to the peer the
 *   table came from first, then to any other connected peer, until every one came.
 * - Backfill: after a table join, every stub's summary, page by page in task order, as
 *   background jobs of the write queue (appends go first), once the task index caught up
 *   on the entries the pull brought (indexing goes first).
 * Every summary received is checked against its row's digest (retention.receiveSummaries)
 * before it is written; a page that fails aborts that request (the rest stays a stub).
 */
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Stream } from '@libp2p/interface'
import { LEDGER_SUMMARIES_PROTOCOL, SNAPSHOT_PAGE_BYTES, SNAPSHOT_PAGE_MAX_ENCODED, SNAPSHOT_PAGE_SUMMARIES, decodeSnapshotPage, decodeSummariesRequest, encodeSummariesRequest, encodeSyncMessage, isSnapshotPageFrame } from '../protocols/index.js'
import type { Logger } from '../base/index.js'
import type { TaskLedger } from './ledger.js'
import type { LedgerMesh } from './mesh.js'
import { P } from './keys.js'
import { nextStubs, stubsOf } from './table.js'

const BACKFILL_TRIES = 10
/** The backfill waits this long at most for the task index to catch up first. */
const INDEX_FIRST_MS = 30_000

export interface SummaryFetchComponents { mesh: Pick<LedgerMesh, 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections'>, ledger: TaskLedger, logger: Logger }

export class SummaryFetcher {
  readonly stats = { requests: 0, summariesFetched: 0, failures: 0, backfills: 0 }
  readonly #c: SummaryFetchComponents
  readonly #timeoutMs: number
  readonly #abort = new AbortController()
  /** The peer a table came from: asked first. */
  #source: string | undefined
  #wanted = new Set<string>()
  /** The one loop that fetches what `want` asked for: one request in flight at a time. */
  #pump: Promise<void> | undefined
  #backfill: Promise<void> | undefined

  constructor (components: SummaryFetchComponents, init: { timeoutMs?: number } = {}) {
    this.#c = components
    this.#timeoutMs = init.timeoutMs ?? 30_000
  }

  async start (): Promise<void> {
    await this.#c.mesh.handle(LEDGER_SUMMARIES_PROTOCOL, async (stream, connection) => this.#serve(stream, connection), { maxInboundStreams: 16 })
    this.#c.ledger.fetchSummaries = async tasks => this.want(tasks)
  }

  async stop (): Promise<void> {
    this.#abort.abort()
    this.#c.ledger.fetchSummaries = undefined
    await this.#c.mesh.unhandle(LEDGER_SUMMARIES_PROTOCOL).catch(() => {})
    await this.#backfill?.catch(() => {})
  }

  /** Resolves once the backfill running now (if any) ended. */
  async backfilled (): Promise<void> { await this.#backfill }

  /**
   * Fetch the summaries of `tasks` (stubs) now; resolves when done, rejects if a request
   * failed. Ids asked for while a request is in flight go together in the next one.
   */
  async want (tasks: readonly string[]): Promise<void> {
    for (const t of tasks) this.#wanted.add(t)
    this.#pump ??= this.#drainWanted().finally(() => { this.#pump = undefined })
    await this.#pump
  }

  async #drainWanted (): Promise<void> {
    while (this.#wanted.size > 0) {
      const ids = [...this.#wanted].sort().slice(0, SNAPSHOT_PAGE_SUMMARIES)
      for (const id of ids) this.#wanted.delete(id)
      await this.#all(ids, false)
    }
  }

  /** Start the backfill of every stub's summary from `peer` (the table's source) unless one runs. */
  backfillFrom (peer: string): void {
    this.#source = peer
    this.#backfill ??= this.#runBackfill().catch((err: Error) => {
      if (!this.#abort.signal.aborted) this.#c.logger.warn({ err: err.message }, 'summary backfill stopped; stubs are fetched on demand')
    }).finally(() => { this.#backfill = undefined })
  }

  /** Every stub's summary, page by page; a failed request is tried again (BACKFILL_TRIES in a row at most, a second apart). */
  async #runBackfill (): Promise<void> {
    this.stats.backfills++
    await this.#indexedFirst()
    let after = ''
    let failures = 0
    for (;;) {
      this.#abort.signal.throwIfAborted()
      const { ids, last } = await nextStubs(this.#c.ledger.store.db, after, SNAPSHOT_PAGE_SUMMARIES)
      if (last === undefined) return
      try {
        await this.#all(ids, true)
        failures = 0
        after = last
      } catch (err) {
        if (++failures >= BACKFILL_TRIES) throw err
        await new Promise(resolve => setTimeout(resolve, 1000))
      }
    }
  }

  /**
   * Let the task index catch up on the entries the pull brought before the backfill starts
   * (at most INDEX_FIRST_MS): those are the tasks still running, what queries and the
   * scheduler read; the backfill only completes compacted tasks, which reads fetch on demand.
   * Both are background jobs of one write queue and would otherwise take turns.
   */
  async #indexedFirst (): Promise<void> {
    const { ledger } = this.#c
    const deadline = Date.now() + INDEX_FIRST_MS
    while (ledger.indexedCount() < ledger.entryCount() && Date.now() < deadline) {
      this.#abort.signal.throwIfAborted()
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }

  /**
   * Fetch `ids` (ascending) until each came or its peer answered without it: a page is cut at
   * SNAPSHOT_PAGE_BYTES, so the ids after its last summary are asked again; one before it that
   * did not come is not held there (its summary expired), and stays a stub.
   */
  async #all (ids: string[], background: boolean): Promise<void> {
    let pending = ids
    while (pending.length > 0) {
      const last = await this.#fromAnyPeer(pending, background)
      pending = last === undefined ? [] : pending.filter(id => id > last)
    }
  }

  /** Ask the table's source, then the other connected peers, for the stubs among `ids`; resolves with the last task served (none: nothing to ask, or none held). */
  async #fromAnyPeer (ids: string[], background: boolean): Promise<string | undefined> {
    const stubs = await stubsOf(this.#c.ledger.store.db, ids)
    if (stubs.size === 0) return undefined
    const wanted = ids.filter(id => stubs.has(id))
    const peers = [...new Set([this.#source, ...this.#c.mesh.getConnections().map(c => c.remotePeer.toString())])].filter((p): p is string => p !== undefined)
    let lastError: unknown = new Error('no connected peer to fetch summaries from')
    for (const peer of peers) {
      try {
        return await this.#fetch(peer, wanted, background)
      } catch (err) {
        this.stats.failures++
        this.#c.logger.debug({ peer, err: (err as Error).message }, 'summaries fetch failed')
        lastError = err
      }
    }
    throw lastError
  }

  /** One request to `peer`; resolves with the last task it served (none: it holds none of them). */
  async #fetch (peer: string, ids: string[], background: boolean): Promise<string | undefined> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#timeoutMs)])
    this.stats.requests++
    const stream = await this.#c.mesh.dialProtocol(peerIdFromString(peer), LEDGER_SUMMARIES_PROTOCOL, { signal })
    try {
      const lp = lpStream(stream, { maxDataLength: SNAPSHOT_PAGE_MAX_ENCODED, maxBufferSize: 2 * SNAPSHOT_PAGE_MAX_ENCODED })
      await lp.write(encodeSummariesRequest(ids), { signal })
      const bytes = (await lp.read({ signal })).subarray()
      await stream.close({ signal }).catch(() => {})
      if (!isSnapshotPageFrame(bytes)) return undefined
      const { applied, last } = await this.#c.ledger.retention.receiveSummaries(decodeSnapshotPage(bytes), signer => signer === peer, { background })
      this.stats.summariesFetched += applied
      return last
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  async #serve (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#timeoutMs)])
    try {
      const lp = lpStream(stream, { maxDataLength: 1024 * 1024 })
      const ids = decodeSummariesRequest((await lp.read({ signal })).subarray())
      const found = await this.#c.ledger.store.db.getMany(ids.map(id => P.summary + id))
      const page: string[] = []
      let bytes = 0
      for (const json of found) {
        if (json === undefined) continue
        const size = Buffer.byteLength(json)
        if (page.length > 0 && bytes + size > SNAPSHOT_PAGE_BYTES) break
        page.push(json)
        bytes += size
      }
      await lp.write(page.length === 0 ? encodeSyncMessage({ done: true }) : this.#c.ledger.retention.signPage(page), { signal })
      await stream.close({ signal })
    } catch (err) {
      this.#c.logger.debug({ peer: connection.remotePeer.toString(), err: (err as Error).message }, 'summaries serve failed')
      stream.abort(err as Error)
    }
  }
}
