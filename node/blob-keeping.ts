/**
 * The node's blob keeping: pins (in the node's LevelDB) and garbage collection of the blob
 * store against the ledger's references, as the API sees them (node/api/blobs.ts).
 * Configured by `blobs.*` (maxMb, keepUnreferencedMs, gcIntervalMs).
 */
import type { ClassicLevel } from 'classic-level'
import type { Logger } from '../base/index.js'
import { BlobCollector, BlobPins, type BlobReferences, type BlobService, type BlobStore } from '../blobs/index.js'
import type { BlobsConfig } from './config/schema.js'
import type { ApiBlobs, BlobsStatusT, CollectBodyT, PinBodyT } from './api/blobs.js'

export interface BlobKeepingComponents {
  db: ClassicLevel<string, string>
  store: BlobStore
  service: Pick<BlobService, 'get'>
  references: BlobReferences
  logger: Logger
}

export class BlobKeeping implements ApiBlobs {
  readonly collector: BlobCollector
  readonly #pins: BlobPins
  readonly #c: BlobKeepingComponents

  private constructor (components: BlobKeepingComponents, pins: BlobPins, config: BlobsConfig) {
    this.#c = components
    this.#pins = pins
    this.collector = new BlobCollector({ store: components.store, pins, references: components.references, logger: components.logger }, {
      maxBytes: config.maxMb * 1024 * 1024, keepUnreferencedMs: config.keepUnreferencedMs, intervalMs: config.gcIntervalMs,
    })
  }

  static async open (components: BlobKeepingComponents, config: BlobsConfig, options: { signal?: AbortSignal } = {}): Promise<BlobKeeping> {
    return new BlobKeeping(components, await BlobPins.open(components.db, options), config)
  }

  start (): void {
    this.#c.store.onStored = size => { this.collector.noteStored(size) }
    this.collector.start()
  }

  async stop (): Promise<void> {
    this.#c.store.onStored = undefined
    await this.collector.stop()
  }

  /** Pins a blob, fetching it from peers first when it is not stored here (BlobNotFoundError when none has it). */
  async pin (digest: string, options: { signal: AbortSignal }): Promise<PinBodyT> {
    let size = await this.#c.store.size(digest, options)
    if (size === undefined) size = (await this.#c.service.get(digest, options)).byteLength
    const at = await this.#pins.pin(digest, options)
    return { digest, pinned: true, pinnedAt: new Date(at).toISOString(), size }
  }

  async unpin (digest: string, options: { signal: AbortSignal }): Promise<PinBodyT> {
    await this.#pins.unpin(digest, options)
    return { digest, pinned: false }
  }

  status (): BlobsStatusT {
    const s = this.collector.stats
    return {
      storedBytes: s.storedBytes, storedBlobs: s.storedBlobs, maxBytes: this.collector.policy.maxBytes, pinned: this.#pins.size, overCap: s.overCap,
      gc: { runs: s.runs, removed: s.removed, removedBytes: s.removedBytes, lastRunAt: s.lastRunAt === null ? null : new Date(s.lastRunAt).toISOString() },
    }
  }

  async collect (options: { signal: AbortSignal }): Promise<CollectBodyT> {
    const plan = await this.collector.collect(options)
    return { removed: plan.remove.length, removedBytes: plan.remove.reduce((sum, r) => sum + r.size, 0), storedBytes: this.collector.stats.storedBytes, overCap: plan.overCap }
  }
}
