/**
 * Ledger replication over the mesh.
 * - Push: each local append is announced on the gossipsub topic LEDGER_TOPIC (the entry
 *   itself). Receivers verify it in the topic validator: applied -> Accept (forwarded),
 *   duplicate or held -> Ignore, forged or malformed -> Reject (not forwarded; the sender's
 *   score drops). A held entry (predecessors missing) triggers a sync with the sender.
 * - Pull: LEDGER_SYNC_PROTOCOL. The client sends its version vector; the server streams, for
 *   every author it is ahead on, the missing range in batches (<= 500 entries, <= 1 MiB). The
 *   client verifies and applies each batch (one signature per batch: the chain vouches for
 *   the rest) before reading the next, so memory stays bounded and a slow client throttles
 *   the server through the stream's flow control. Never one round trip per entry.
 * - Anti-entropy: a sync on every identified connection (join, partition heal) and every
 *   few seconds with one random connected peer.
 */
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import { LEDGER_SYNC_PROTOCOL, LEDGER_TOPIC, decodeEntryBytes, encodeEntry, type Entry } from '../protocols/ledger.js'
import { decodeSyncMessage, decodeSyncRequest, encodeSyncMessage, type SyncBatch } from '../protocols/ledger-sync.js'
import type { Logger } from '../node/logger.js'
import type { Mesh } from '../node/mesh/libp2p.js'
import type { TaskLedger } from './ledger.js'

export interface LedgerSyncComponents { mesh: Mesh, ledger: TaskLedger, logger: Logger }
export interface LedgerSyncInit { antiEntropyMs?: number, batchEntries?: number, batchBytes?: number, syncTimeoutMs?: number }

export class LedgerSync {
  readonly stats = { syncs: 0, syncFailures: 0, entriesPulled: 0, entriesServed: 0, gossipRejected: 0 }
  readonly #c: LedgerSyncComponents
  readonly #init: Required<LedgerSyncInit>
  readonly #active = new Map<string, Promise<number>>()
  readonly #abort = new AbortController()
  #timer: NodeJS.Timeout | undefined

  constructor (components: LedgerSyncComponents, init: LedgerSyncInit = {}) {
    this.#c = components
    this.#init = { antiEntropyMs: 5000, batchEntries: 500, batchBytes: 1024 * 1024, syncTimeoutMs: 30_000, ...init }
  }

  async start (): Promise<void> {
    const { mesh, ledger } = this.#c
    await mesh.handle(LEDGER_SYNC_PROTOCOL, async (stream, connection) => this.#serve(stream, connection), { maxInboundStreams: 16 })
    mesh.services.pubsub.topicValidators.set(LEDGER_TOPIC, async (from, msg) => this.#validate(from, msg))
    mesh.services.pubsub.subscribe(LEDGER_TOPIC)
    ledger.events.onApplied = (entries, _states, local) => {
      if (local) for (const { entry } of entries) void mesh.services.pubsub.publish(LEDGER_TOPIC, encodeEntry(entry)).catch(() => {})
    }
    ledger.events.onGap = (_author, from) => { if (from !== undefined) this.syncInBackground(from) }
    mesh.addEventListener('peer:identify', this.#onIdentify)
    this.#timer = setInterval(() => { this.#antiEntropy() }, this.#init.antiEntropyMs)
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.#timer)
    this.#abort.abort()
    this.#c.mesh.removeEventListener('peer:identify', this.#onIdentify)
    this.#c.mesh.services.pubsub.topicValidators.delete(LEDGER_TOPIC)
    this.#c.ledger.events.onApplied = undefined
    this.#c.ledger.events.onGap = undefined
    await this.#c.mesh.unhandle(LEDGER_SYNC_PROTOCOL).catch(() => {})
    await Promise.allSettled(this.#active.values())
  }

  syncInBackground (peer: string): void {
    void this.syncWith(peer).catch(() => {})
  }

  /** Pull everything `peer` has that this node lacks; resolves with the entries applied. */
  async syncWith (peer: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    const running = this.#active.get(peer)
    if (running !== undefined) return running
    const task = this.#pull(peer, options.signal).finally(() => this.#active.delete(peer))
    this.#active.set(peer, task)
    return task
  }

  async #pull (peer: string, signal: AbortSignal | undefined): Promise<number> {
    const abort = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#init.syncTimeoutMs), ...(signal === undefined ? [] : [signal])])
    let applied = 0
    const stream = await this.#c.mesh.dialProtocol(peerIdFromString(peer), LEDGER_SYNC_PROTOCOL, { signal: abort })
    try {
      const lp = lpStream(stream, { maxDataLength: this.#init.batchBytes * 2 })
      await lp.write(new TextEncoder().encode(JSON.stringify({ vv: this.#c.ledger.versionVector() })), { signal: abort })
      for (;;) {
        const message = decodeSyncMessage((await lp.read({ signal: abort })).subarray())
        if ('done' in message) break
        const entries = message.entries
        const outcomes = await this.#c.ledger.receive(entries, peer)
        if (outcomes.includes('rejected')) throw new Error(`peer ${peer} sent entries that fail verification`)
        applied += entries.length
      }
      this.stats.syncs++
      this.stats.entriesPulled += applied
      await stream.close({ signal: abort }).catch(() => {})
      return applied
    } catch (err) {
      this.stats.syncFailures++
      stream.abort(err as Error)
      if (!this.#abort.signal.aborted) this.#c.logger.debug({ peer, err: (err as Error).message }, 'ledger sync failed')
      throw err
    }
  }

  async #serve (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#init.syncTimeoutMs)])
    try {
      const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
      const { vv } = decodeSyncRequest((await lp.read({ signal })).subarray())
      const heads = this.#c.ledger.versionVector()
      for (const [author, head] of Object.entries(heads)) {
        let next = (vv[author] ?? 0) + 1
        while (next <= head) {
          const stored = await this.#c.ledger.store.range(author, next, head, this.#init.batchEntries)
          if (stored.length === 0) break
          for (const batch of this.#bySize(author, stored.map(s => s.entry))) {
            await lp.write(encodeSyncMessage(batch), { signal })
            this.stats.entriesServed += batch.entries.length
          }
          next = stored[stored.length - 1].entry.seq + 1
        }
      }
      await lp.write(encodeSyncMessage({ done: true }), { signal })
      await stream.close({ signal })
    } catch (err) {
      this.#c.logger.debug({ peer: connection.remotePeer.toString(), err: (err as Error).message }, 'ledger sync serve failed')
      stream.abort(err as Error)
    }
  }

  * #bySize (author: string, entries: Entry[]): Generator<SyncBatch> {
    let batch: Entry[] = []
    let bytes = 0
    for (const e of entries) {
      const size = encodeEntry(e).byteLength
      if (batch.length > 0 && bytes + size > this.#init.batchBytes) { yield { author, entries: batch }; batch = []; bytes = 0 }
      batch.push(e)
      bytes += size
    }
    if (batch.length > 0) yield { author, entries: batch }
  }

  async #validate (from: PeerId, msg: Message): Promise<TopicValidatorResult> {
    let entry: Entry
    try {
      entry = decodeEntryBytes(msg.data)
    } catch {
      this.stats.gossipRejected++
      return TopicValidatorResult.Reject
    }
    const [outcome] = await this.#c.ledger.receive([entry], from.toString())
    if (outcome === 'applied') return TopicValidatorResult.Accept
    if (outcome === 'duplicate' || outcome === 'held') return TopicValidatorResult.Ignore
    this.stats.gossipRejected++
    return TopicValidatorResult.Reject
  }

  readonly #onIdentify = (evt: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => {
    if (evt.detail.protocols.includes(LEDGER_SYNC_PROTOCOL)) this.syncInBackground(evt.detail.peerId.toString())
  }

  #antiEntropy (): void {
    const peers = [...new Set(this.#c.mesh.getConnections().map(c => c.remotePeer.toString()))]
    if (peers.length > 0) this.syncInBackground(peers[Math.floor(Math.random() * peers.length)])
  }
}
