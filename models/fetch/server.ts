/**
 * ModelServer: the holder side of the model fetch protocol as a service with a lifetime. It
 * serves the models `lookup` finds by digest, at most `maxServing` fetches at once (more are
 * answered `busy`, and the fetcher asks another holder), each stream under an idle deadline
 * of its own. Manifests are computed once per file and kept for the last few files.
 */
import type { Libp2p } from '@libp2p/interface'
import { MODEL_FETCH_PROTOCOL } from '../../protocols/index.js'
import type { Logger } from '../../base/index.js'
import { ManifestCache } from './manifest.js'
import { serveModelFetch, type HeldModelFile } from './serve.js'

export interface ModelServerComponents {
  mesh: Pick<Libp2p, 'handle' | 'unhandle'>
  lookup: (digest: string) => Promise<HeldModelFile | undefined>
  logger: Logger
}

export interface ModelServerInit {
  /** Fetches served at once (default 4). */
  maxServing?: number
  /** Deadline of one served stream (default 1 hour: a big model on a slow link). */
  streamTimeoutMs?: number
}

export interface ModelServerStats { served: number, refusedBusy: number, failed: number, serving: number }

export class ModelServer {
  readonly stats: ModelServerStats = { served: 0, refusedBusy: 0, failed: 0, serving: 0 }
  readonly #c: ModelServerComponents
  readonly #maxServing: number
  readonly #streamTimeoutMs: number
  readonly #manifests = new ManifestCache()
  #stopping = new AbortController()

  constructor (components: ModelServerComponents, init: ModelServerInit = {}) {
    this.#c = components
    this.#maxServing = init.maxServing ?? 4
    this.#streamTimeoutMs = init.streamTimeoutMs ?? 3_600_000
  }

  async start (): Promise<void> {
    this.#stopping = new AbortController()
    const stopping = this.#stopping.signal
    await this.#c.mesh.handle(MODEL_FETCH_PROTOCOL, async (stream, connection) => {
      let admitted = false
      try {
        const outcome = await serveModelFetch(stream, {
          lookup: this.#c.lookup,
          manifest: async file => this.#manifests.get(file, stopping),
          admit: () => {
            if (this.stats.serving >= this.#maxServing) return false
            admitted = true
            this.stats.serving++
            return true
          },
          signal: AbortSignal.any([stopping, AbortSignal.timeout(this.#streamTimeoutMs)]),
          logger: this.#c.logger,
          peer: connection.remotePeer.toString(),
        })
        if (outcome === 'served') this.stats.served++
        else if (outcome === 'busy') this.stats.refusedBusy++
        else if (outcome === 'failed') this.stats.failed++
      } finally {
        if (admitted) this.stats.serving--
      }
    }, { maxInboundStreams: this.#maxServing * 2 })
  }

  async stop (): Promise<void> {
    this.#stopping.abort()
    await this.#c.mesh.unhandle(MODEL_FETCH_PROTOCOL).catch(() => {})
  }
}
