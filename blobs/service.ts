/**
 * The blob service: puts blobs into the local store and announces them on the kad-dht; gets
 * a blob from the local store, else from peers, verified, and keeps the copy (so this node
 * becomes a holder too, and says so on the DHT).
 * - Candidates (candidates.ts): the caller's hints, then DHT providers, then connected
 *   peers, each asked at most once over one BLOB_PROTOCOL stream with a `fetchTimeoutMs` deadline.
 * - A peer that breaks the protocol or sends wrong bytes is logged and skipped; when no
 *   candidate serves the blob, `get` rejects with BlobNotFoundError. Time is bounded by the
 *   candidate counts times the deadlines, and by the caller's signal (AbortedError).
 * - Announcing (`provide`) runs in the background and never delays a caller; its failures
 *   are logged and counted. Not built: re-announcing stored blobs after a restart.
 */
import type { Logger } from '../base/index.js'
import type { BlobsMesh } from './mesh.js'
import { BLOB_PROTOCOL, type BlobRef } from '../protocols/index.js'
import { blobCandidates } from './candidates.js'
import { assertDigest, blobCid } from './digest.js'
import { BlobNotFoundError, BlobOptionsError } from './errors.js'
import { fetchBlobFromPeer } from './fetch.js'
import { serveBlobRequest } from './serve.js'
import { checkAborted, withDeadline } from './signals.js'
import type { BlobStore } from './store.js'

export interface BlobServiceComponents { mesh: BlobsMesh, store: BlobStore, logger: Logger }

export interface BlobServiceInit {
  /** Largest blob fetched from a peer (default: the store's limit). */
  maxBytes?: number
  /** Deadline of one peer's stream, dial included (default 30 s). */
  fetchTimeoutMs?: number
  /** Deadline of the DHT provider query of one get (default 10 s). */
  findProvidersTimeoutMs?: number
  /** Deadline of one background provide (default 60 s). */
  provideTimeoutMs?: number
  maxProviders?: number
  maxConnectedPeers?: number
  /** Concurrent blob requests served (each may hold a blob in memory; default 8). */
  maxInboundStreams?: number
}

export interface BlobGetOptions {
  signal?: AbortSignal
  /** Peer ids likely to hold the blob: asked first. */
  hints?: readonly string[]
}

export interface BlobServiceStats {
  fetched: number
  served: number
  peersRejected: number
  provides: number
  provideRecordsSent: number
  provideFailures: number
}

export interface BlobService {
  readonly stats: BlobServiceStats
  start: () => Promise<void>
  stop: () => Promise<void>
  put: (bytes: Uint8Array, options?: { signal?: AbortSignal }) => Promise<BlobRef>
  get: (digest: string, options?: BlobGetOptions) => Promise<Uint8Array>
  /** Whether the blob is stored here (garbage collection may have removed it since it was put). */
  has: (digest: string, options?: { signal?: AbortSignal }) => Promise<boolean>
}

export function createBlobService (components: BlobServiceComponents, init: BlobServiceInit = {}): BlobService {
  return new DefaultBlobService(components, init)
}

class DefaultBlobService implements BlobService {
  readonly stats: BlobServiceStats = { fetched: 0, served: 0, peersRejected: 0, provides: 0, provideRecordsSent: 0, provideFailures: 0 }
  readonly #c: BlobServiceComponents
  readonly #init: Required<BlobServiceInit>
  #stopping = new AbortController()
  readonly #background = new Set<Promise<unknown>>()

  constructor (components: BlobServiceComponents, init: BlobServiceInit) {
    this.#c = components
    const defaults: Required<BlobServiceInit> = {
      maxBytes: components.store.maxBytes, fetchTimeoutMs: 30_000, findProvidersTimeoutMs: 10_000, provideTimeoutMs: 60_000,
      maxProviders: 8, maxConnectedPeers: 8, maxInboundStreams: 8,
    }
    const options = { ...defaults }
    const problems: string[] = []
    for (const key of Object.keys(defaults) as Array<keyof BlobServiceInit>) {
      const value = init[key]
      if (value === undefined) continue
      const least = key === 'maxProviders' || key === 'maxConnectedPeers' ? 0 : 1
      if (!Number.isSafeInteger(value) || value < least) problems.push(`${key} must be an integer >= ${least}, not ${String(value)}`)
      options[key] = value
    }
    if (problems.length > 0) throw new BlobOptionsError(`invalid blob service options: ${problems.join('; ')}`, { details: problems })
    this.#init = Object.freeze(options)
  }

  async start (): Promise<void> {
    this.#stopping = new AbortController()
    await this.#c.mesh.handle(BLOB_PROTOCOL, async (stream, connection) => {
      const outcome = await serveBlobRequest(stream, this.#c.store, {
        signal: withDeadline(this.#init.fetchTimeoutMs, this.#stopping.signal), logger: this.#c.logger, peer: connection.remotePeer.toString(),
      })
      if (outcome === 'served') this.stats.served++
    }, { maxInboundStreams: this.#init.maxInboundStreams })
  }

  async stop (): Promise<void> {
    this.#stopping.abort()
    await this.#c.mesh.unhandle(BLOB_PROTOCOL).catch(() => {})
    await Promise.allSettled(this.#background)
  }

  async put (bytes: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<BlobRef> {
    const ref = await this.#c.store.put(bytes, { signal: this.#signal(options.signal) })
    this.#provideInBackground(ref.digest)
    return ref
  }

  async has (digest: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.#c.store.has(digest, options)
  }

  async get (digest: string, options: BlobGetOptions = {}): Promise<Uint8Array> {
    assertDigest(digest)
    const signal = this.#signal(options.signal)
    try {
      const local = await this.#c.store.get(digest, { signal })
      if (local !== undefined) return local
    } catch (err) {
      // A corrupt copy was removed by the store: fetch a good one from a peer instead.
      if ((err as Error).name !== 'BlobCorruptError') throw err
      this.#c.logger.warn({ digest }, 'local blob was corrupt; fetching it from peers')
    }
    let asked = 0
    for await (const peer of blobCandidates(this.#c.mesh, digest, { ...this.#init, hints: options.hints ?? [], signal, logger: this.#c.logger })) {
      checkAborted(signal, 'blob get')
      asked++
      let bytes: Uint8Array | undefined
      try {
        bytes = await fetchBlobFromPeer(this.#c.mesh, peer, digest, { maxBytes: this.#init.maxBytes, signal: withDeadline(this.#init.fetchTimeoutMs, signal) })
      } catch (err) {
        checkAborted(signal, 'blob get')
        if ((err as Error).name === 'BlobPeerError') this.stats.peersRejected++
        this.#c.logger[(err as Error).name === 'BlobPeerError' ? 'warn' : 'debug']({ digest, peer: peer.toString(), err: (err as Error).message }, 'blob fetch from peer failed')
        continue
      }
      if (bytes === undefined) continue
      this.stats.fetched++
      await this.#keep(bytes, digest)
      return bytes
    }
    throw new BlobNotFoundError(`blob ${digest} is not stored here and no peer asked (${asked}) served it`, { details: { digest, asked } })
  }

  /** Store a fetched (verified) copy and announce it; a local failure still returns the bytes. */
  async #keep (bytes: Uint8Array, digest: string): Promise<void> {
    try {
      await this.#c.store.put(bytes, { signal: this.#stopping.signal })
      this.#provideInBackground(digest)
    } catch (err) {
      this.#c.logger.warn({ digest, err: (err as Error).message }, 'cannot keep a fetched blob')
    }
  }

  #provideInBackground (digest: string): void {
    const task = (async () => {
      const signal = withDeadline(this.#init.provideTimeoutMs, this.#stopping.signal)
      for await (const event of this.#c.mesh.services.dht.provide(blobCid(digest), { signal })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER') this.stats.provideRecordsSent++
      }
      this.stats.provides++
    })().catch(err => {
      this.stats.provideFailures++
      if (this.#stopping.signal.aborted) return
      // Alone, failing to announce is expected (a dev node); within a mesh it means peers cannot find the blob.
      const level = this.#c.mesh.getConnections().length === 0 ? 'debug' : 'warn'
      this.#c.logger[level]({ digest, err: (err as Error).message }, 'cannot announce a blob on the DHT')
    }).finally(() => this.#background.delete(task))
    this.#background.add(task)
  }

  #signal (signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.#stopping.signal : AbortSignal.any([signal, this.#stopping.signal])
  }
}
