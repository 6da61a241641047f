/**
 * Ledger replication over the mesh.
 * - Push: local appends are announced on the gossipsub topic LEDGER_TOPIC, the entries
 *   themselves, gathered for `announceDelayMs` (5 ms) into messages of <= 256 entries,
 *   <= 512 KiB. Receivers verify it in the topic validator: applied -> Accept (forwarded),
 *   duplicate or held -> Ignore, forged or malformed -> Reject (not forwarded; the sender's
 *   score drops). A held entry (predecessors missing) triggers a sync with the sender.
 * - Pull: LEDGER_SYNC_PROTOCOL. The client sends its version vector; the server streams, for
 *   every author it is ahead on, the missing range in batches (<= 500 entries, <= 1 MiB). The
 *   client verifies and applies each batch (one signature per batch: the chain vouches for
 *   the rest) before reading the next, so memory stays bounded and a slow client throttles
 *   the server through the stream's flow control. Never one round trip per entry.
 * - Snapshot join: a client whose version vector is below one of the server's checkpoints
 *   (it joined after a compaction, or was away longer than the retention window) cannot get
 *   the compacted entries; the server first sends its state table (a row per compacted task,
 *   table.ts), in pages it signs, then its checkpoints, then the live entries above them. The
 *   client accepts a page only signed by the peer it pulls from, verifies each checkpoint
 *   (retention.ts), and aborts the pull on a forged one. The full summaries follow in the
 *   background, each checked against its row's digest (summary-fetch.ts).
 * - Anti-entropy: a sync on every identified connection (join, partition heal) and every
 *   few seconds with one random connected peer.
 */
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import { ANNOUNCE_MAX_BYTES, ANNOUNCE_MAX_ENTRIES, LEDGER_SYNC_PROTOCOL, LEDGER_TOPIC, decodeAnnouncement, encodeAnnouncement, type Entry, ACK, SYNC_WINDOW, decodeAck, decodeSyncMessage, decodeSyncRequest, encodeSyncBatchRaw, encodeSyncMessage, SNAPSHOT_PAGE_MAX_ENCODED, TABLE_PAGE_BYTES, TABLE_PAGE_ROWS } from '../protocols/index.js'
import type { Logger } from '../base/index.js'
import type { TaskLedger } from './ledger.js'
import { P, END, type Stored } from './store.js'
import { SummaryFetcher } from './summary-fetch.js'
import type { LedgerMesh } from './mesh.js'

/** What replication needs of the mesh: a protocol handler, dials, connections, one gossip topic. */
export type { LedgerMesh }

export interface LedgerSyncComponents { mesh: LedgerMesh, ledger: TaskLedger, logger: Logger }
export interface LedgerSyncInit {
  antiEntropyMs?: number
  batchEntries?: number
  batchBytes?: number
  /** The longest wait for one step of a sync (a dial, one message read or written), default 30 s; a sync as a whole may take longer. */
  syncTimeoutMs?: number
  /** The longest a whole pull may take (default 10 min): a peer cannot hold this node's one pull slot longer. */
  pullMaxMs?: number
  /** Local appends are announced this long after the first of them (default 5 ms): one message for many write groups under load, and the fan-out to peers stays off the auction's critical path. */
  announceDelayMs?: number
}

const PEER_VECTORS = 256

export class LedgerSync {
  readonly stats = { syncs: 0, syncFailures: 0, entriesPulled: 0, entriesServed: 0, gossipRejected: 0 }
  readonly #c: LedgerSyncComponents
  readonly #init: Required<LedgerSyncInit>
  readonly #active = new Map<string, Promise<number>>()
  #pulls: Promise<number> = Promise.resolve(0)
  readonly #abort = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #outbox: Entry[] = []
  /** The version vector each peer last asked to sync with (what it had then), at most PEER_VECTORS peers. */
  readonly #peerVectors = new Map<string, { vv: Record<string, number>, at: number }>()
  #flushing: NodeJS.Timeout | undefined
  /** Full summaries for the stubs a table join leaves (and their server side). */
  readonly summaries: SummaryFetcher

  constructor (components: LedgerSyncComponents, init: LedgerSyncInit = {}) {
    this.#c = components
    this.#init = { antiEntropyMs: 5000, batchEntries: 500, batchBytes: 512 * 1024, syncTimeoutMs: 30_000, pullMaxMs: 600_000, announceDelayMs: 5, ...init }
    this.summaries = new SummaryFetcher(components, { timeoutMs: this.#init.syncTimeoutMs })
  }

  readonly #onApplied = (entries: readonly Stored[], local: boolean): void => {
    // No peer on the topic: nobody to push to (a peer that comes later pulls them by sync).
    if (!local || this.#c.mesh.services.pubsub.getSubscribers(LEDGER_TOPIC).length === 0) return
    for (const { entry } of entries) this.#outbox.push(entry)
    this.#flushing ??= setTimeout(() => { this.#announce() }, this.#init.announceDelayMs)
  }

  readonly #onGap = (_author: string, from: string | undefined): void => { if (from !== undefined) this.syncInBackground(from) }

  async start (): Promise<void> {
    const { mesh, ledger } = this.#c
    await mesh.handle(LEDGER_SYNC_PROTOCOL, async (stream, connection) => this.#serve(stream, connection), { maxInboundStreams: 16 })
    await this.summaries.start()
    mesh.services.pubsub.topicValidators.set(LEDGER_TOPIC, async (from, msg) => this.#validate(from, msg))
    mesh.services.pubsub.subscribe(LEDGER_TOPIC)
    ledger.events.on('applied', this.#onApplied)
    ledger.events.on('gap', this.#onGap)
    mesh.addEventListener('peer:identify', this.#onIdentify)
    this.#timer = setInterval(() => { this.#antiEntropy() }, this.#init.antiEntropyMs)
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.#timer)
    if (this.#flushing !== undefined) { clearTimeout(this.#flushing); this.#announce() }
    this.#abort.abort()
    this.#c.mesh.removeEventListener('peer:identify', this.#onIdentify)
    this.#c.mesh.services.pubsub.topicValidators.delete(LEDGER_TOPIC)
    this.#c.ledger.events.off('applied', this.#onApplied)
    this.#c.ledger.events.off('gap', this.#onGap)
    await this.#c.mesh.unhandle(LEDGER_SYNC_PROTOCOL).catch(() => {})
    await Promise.allSettled(this.#active.values())
    await this.summaries.stop()
  }

  /** Publish what local appends left in the outbox, in messages within the size bounds. */
  #announce (): void {
    this.#flushing = undefined
    const pending = this.#outbox
    this.#outbox = []
    let message: Entry[] = []
    let bytes = 0
    const send = (): void => {
      if (message.length > 0) void this.#c.mesh.services.pubsub.publish(LEDGER_TOPIC, encodeAnnouncement(message)).catch(() => {})
      message = []
      bytes = 0
    }
    for (const entry of pending) {
      const size = JSON.stringify(entry).length
      if (message.length >= ANNOUNCE_MAX_ENTRIES || (message.length > 0 && bytes + size > ANNOUNCE_MAX_BYTES)) send()
      message.push(entry)
      bytes += size
    }
    send()
  }

  syncInBackground (peer: string): void {
    void this.syncWith(peer).catch(() => {})
  }

  /** Pull everything `peer` has that this node lacks; resolves with the entries applied. */
  async syncWith (peer: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    const running = this.#active.get(peer)
    if (running !== undefined) return running
    // One pull at a time: the next one asks with the version vector the last one left, so
    // two peers never both send the same missing range.
    const task = this.#pulls.then(async () => this.#pull(peer, options.signal)).finally(() => this.#active.delete(peer))
    this.#pulls = task.catch(() => 0)
    this.#active.set(peer, task)
    return task
  }

  async #pull (peer: string, signal: AbortSignal | undefined): Promise<number> {
    // syncTimeoutMs bounds each step (a dial, a read, a write), not the pull: a large snapshot takes longer than one step.
    const abort = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#init.pullMaxMs), ...(signal === undefined ? [] : [signal])])
    const step = (): AbortSignal => AbortSignal.any([abort, AbortSignal.timeout(this.#init.syncTimeoutMs)])
    let applied = 0
    let tables = 0
    const stream = await this.#c.mesh.dialProtocol(peerIdFromString(peer), LEDGER_SYNC_PROTOCOL, { signal: step() })
    // Entries first, task states after: indexing waits while this pull runs.
    const release = this.#c.ledger.deferIndexing()
    try {
      const maxDataLength = Math.max(this.#init.batchBytes * 2, SNAPSHOT_PAGE_MAX_ENCODED)
      const lp = lpStream(stream, { maxDataLength, maxBufferSize: (SYNC_WINDOW + 2) * maxDataLength })
      await lp.write(new TextEncoder().encode(JSON.stringify({ vv: this.#c.ledger.versionVector() })), { signal: step() })
      // Table pages are applied one behind: the next page is checked while the last one's batch is written.
      let applying: Promise<number> | undefined
      const settle = async (): Promise<void> => { if (applying !== undefined) { const a = applying; applying = undefined; tables += await a } }
      for (;;) {
        const message = decodeSyncMessage((await lp.read({ signal: step() })).subarray())
        if (!('table' in message)) await settle()
        if ('done' in message) break
        // A snapshot page counts only if the peer this node syncs from (a member: the swarm key let it in) signed it.
        if ('table' in message) {
          const next = this.#c.ledger.retention.receiveTablePage(message.table, signer => signer === peer)
          next.catch(() => {}) // awaited by settle(), at the latest before the next message of another kind
          await settle()
          applying = next
        } else if ('page' in message) await this.#c.ledger.retention.receivePage(message.page, signer => signer === peer)
        else if ('checkpoints' in message) await this.#c.ledger.retention.receiveCheckpoints(message.checkpoints)
        else {
          const outcomes = await this.#c.ledger.receive(message.entries, peer)
          if (outcomes.includes('rejected')) throw new Error(`peer ${peer} sent entries that fail verification`)
          applied += message.entries.length
        }
        await lp.write(ACK, { signal: step() })
      }
      this.stats.syncs++
      this.stats.entriesPulled += applied
      if (tables > 0) this.summaries.backfillFrom(peer)
      await stream.close({ signal: step() }).catch(() => {})
      return applied
    } catch (err) {
      this.stats.syncFailures++
      stream.abort(err as Error)
      if (!this.#abort.signal.aborted) this.#c.logger.debug({ peer, err: (err as Error).message }, 'ledger sync failed')
      throw err
    } finally {
      release()
    }
  }

  /** What each peer had when it last synced from this node (its sync lag: this node's heads minus these). */
  peerVectors (): ReadonlyMap<string, { vv: Readonly<Record<string, number>>, at: number }> { return this.#peerVectors }

  #rememberVector (peer: string, vv: Record<string, number>): void {
    this.#peerVectors.delete(peer)
    this.#peerVectors.set(peer, { vv, at: Date.now() })
    if (this.#peerVectors.size > PEER_VECTORS) this.#peerVectors.delete(this.#peerVectors.keys().next().value as string)
  }

  async #serve (stream: Stream, connection: Connection): Promise<void> {
    const step = (): AbortSignal => AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#init.syncTimeoutMs)])
    try {
      const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
      const { vv } = decodeSyncRequest((await lp.read({ signal: step() })).subarray())
      this.#rememberVector(connection.remotePeer.toString(), vv)
      const heads = this.#c.ledger.versionVector()
      let unacked = 0
      const write = async (bytes: Uint8Array): Promise<void> => {
        if (unacked >= SYNC_WINDOW) { decodeAck((await lp.read({ signal: step() })).subarray()); unacked-- }
        await lp.write(bytes, { signal: step() })
        unacked++
      }
      const send = async (author: string, batch: string[]): Promise<void> => write(encodeSyncBatchRaw(author, batch))
      const { retention } = this.#c.ledger
      if ([...retention.checkpoints].some(([author, c]) => (vv[author] ?? 0) < c.entry.seq)) await this.#serveSnapshot(write)
      for (const [author, head] of Object.entries(heads)) {
        let next = Math.max(vv[author] ?? 0, retention.floor(author)) + 1
        while (next <= head) {
          const raw = await this.#c.ledger.store.rangeRaw(author, next, head, this.#init.batchEntries)
          if (raw.length === 0) break
          // Stored values are "<id> <entry JSON>": the JSON goes out as stored, unparsed.
          let batch: string[] = []
          let bytes = 0
          for (const value of raw) {
            const json = value.slice(65)
            if (batch.length > 0 && bytes + json.length > this.#init.batchBytes) {
              await send(author, batch)
              batch = []
              bytes = 0
            }
            batch.push(json)
            bytes += json.length
            this.stats.entriesServed++
          }
          if (batch.length > 0) await send(author, batch)
          next += raw.length
        }
      }
      await lp.write(encodeSyncMessage({ done: true }), { signal: step() })
      await stream.close({ signal: step() })
    } catch (err) {
      this.#c.logger.debug({ peer: connection.remotePeer.toString(), err: (err as Error).message }, 'ledger sync serve failed')
      stream.abort(err as Error)
    }
  }

  /** The state table (rows as stored, in signed pages of at most TABLE_PAGE_ROWS / TABLE_PAGE_BYTES), then every checkpoint entry. */
  async #serveSnapshot (write: (bytes: Uint8Array) => Promise<void>): Promise<void> {
    const { store, retention } = this.#c.ledger
    const iterator = store.db.iterator({ gt: P.table, lt: P.table + END })
    try {
      let page: Array<[string, string]> = []
      let bytes = 0
      for (let rows = await iterator.nextv(TABLE_PAGE_ROWS); rows.length > 0; rows = await iterator.nextv(TABLE_PAGE_ROWS)) {
        for (const [key, value] of rows) {
          const row: [string, string] = [key.slice(P.table.length), value]
          const size = key.length + value.length
          if (page.length >= TABLE_PAGE_ROWS || bytes + size > TABLE_PAGE_BYTES) { await write(retention.signTable(page)); page = []; bytes = 0 }
          page.push(row)
          bytes += size
        }
      }
      if (page.length > 0) await write(retention.signTable(page))
    } finally {
      await iterator.close()
    }
    const checkpoints = [...retention.checkpoints.values()].map(c => c.entry)
    for (let i = 0; i < checkpoints.length; i += 1000) await write(encodeSyncMessage({ checkpoints: checkpoints.slice(i, i + 1000) }))
  }

  async #validate (from: PeerId, msg: Message): Promise<TopicValidatorResult> {
    let entries: Entry[]
    try {
      entries = decodeAnnouncement(msg.data)
    } catch {
      this.stats.gossipRejected++
      return TopicValidatorResult.Reject
    }
    const outcomes = await this.#c.ledger.receive(entries, from.toString())
    if (outcomes.some(o => o === 'rejected' || o === 'equivocation')) {
      this.stats.gossipRejected++
      return TopicValidatorResult.Reject
    }
    return outcomes.includes('applied') ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore
  }

  readonly #onIdentify = (evt: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => {
    if (evt.detail.protocols.includes(LEDGER_SYNC_PROTOCOL)) this.syncInBackground(evt.detail.peerId.toString())
  }

  #antiEntropy (): void {
    const peers = [...new Set(this.#c.mesh.getConnections().map(c => c.remotePeer.toString()))]
    if (peers.length > 0) this.syncInBackground(peers[Math.floor(Math.random() * peers.length)])
  }
}
