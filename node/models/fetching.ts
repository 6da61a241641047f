/**
 * The node's side of models that travel the mesh: it serves the models of its store to peers
 * (ModelServer, by digest), announces each one's digest on the kad-dht (the raw CID of the
 * file's SHA-256, as blobs are), and fetches models by name (ModelFetcher): holders are the
 * live peers whose advert lists the name (the digest most of them have), then DHT providers.
 * With `models.autoFetch`, model tasks for a model only a peer holds are fetched before they
 * run (`access`), and this node bids for them with the transfer time added (`fetchFacts`).
 */
import type { PeerId } from '@libp2p/interface'
import { blobCandidates, blobCid } from '../../blobs/index.js'
import { ModelFetcher, ModelNotFoundError, ModelServer, ModelStore, type FetchProgress, type AddModelResult } from '../../models/index.js'
import { fetchTransferMs, type ModelFacts } from '../../scheduler/index.js'
import type { ModelAccess } from '../../tasks/index.js'
import type { ModelCapability } from '../../protocols/index.js'
import type { Logger } from '../../base/index.js'
import type { Mesh } from '../mesh/libp2p.js'
import type { ModelCatalog } from './catalog.js'

export interface ModelFetchingComponents {
  mesh: Mesh
  catalog: ModelCatalog
  dataDir: string
  /** Live peers' adverts: who holds which models. */
  adverts: { livePeers: () => ReadonlyArray<{ advert: { peerId: string, capabilities: { models: readonly ModelCapability[] } } }> }
  logger: Logger
}

export interface ModelFetchingInit { autoFetch: boolean, fetchMaxMb: number }

/** Where a model can be fetched from: its digest, its size as advertised, the peers that hold it. */
export interface ModelSource { name: string, digest: string, sizeMb?: number, holders: string[] }

/** Until a fetch has measured one: MB/s a transfer is priced at in bids. */
export const DEFAULT_FETCH_MB_PER_S = 50

export class NodeModelFetching {
  readonly #c: ModelFetchingComponents
  readonly #init: ModelFetchingInit
  readonly #server: ModelServer
  #fetcher: ModelFetcher | undefined
  #stopping = new AbortController()
  #provided = new Set<string>()
  #measuredMbPerS: number | undefined
  readonly #onChange = (): void => { this.#provideAll() }

  constructor (components: ModelFetchingComponents, init: ModelFetchingInit) {
    this.#c = components
    this.#init = init
    this.#server = new ModelServer({
      mesh: components.mesh,
      lookup: async digest => {
        const entry = components.catalog.list().find(m => m.digest === digest && m.available)
        return entry === undefined ? undefined : { path: entry.path, digest, size: entry.bytes, mtimeMs: Date.parse(entry.addedAt) }
      },
      logger: components.logger,
    })
  }

  async start (): Promise<void> {
    this.#stopping = new AbortController()
    const store = await ModelStore.open({ dataDir: this.#c.dataDir })
    this.#fetcher = new ModelFetcher({
      mesh: this.#c.mesh, store, logger: this.#c.logger,
      holders: (digest, hints, signal) => this.#holders(digest, hints, signal),
    }, { maxBytes: this.#init.fetchMaxMb * 1024 * 1024 })
    await this.#server.start()
    this.#c.catalog.events.on('change', this.#onChange)
    this.#provideAll()
  }

  async stop (): Promise<void> {
    this.#stopping.abort()
    this.#c.catalog.events.off('change', this.#onChange)
    await this.#server.stop()
  }

  get serverStats (): ModelServer['stats'] { return this.#server.stats }
  progress (): FetchProgress[] { return this.#fetcher?.progress() ?? [] }

  /** The peers holding `name`, under the digest most of them advertise; undefined when none does. */
  source (name: string): ModelSource | undefined {
    const byDigest = new Map<string, ModelSource>()
    for (const { advert: peer } of this.#c.adverts.livePeers()) {
      for (const m of peer.capabilities.models) {
        if (m.name !== name || m.digest === undefined) continue
        const source = byDigest.get(m.digest) ?? { name, digest: m.digest, sizeMb: m.sizeMb, holders: [] }
        if (!source.holders.includes(peer.peerId)) source.holders.push(peer.peerId)
        byDigest.set(m.digest, source)
      }
    }
    return [...byDigest.values()].sort((a, b) => b.holders.length - a.holders.length)[0]
  }

  /** Fetches `name` from the mesh into the store (joins a running fetch of it); ModelNotFoundError when no live peer advertises it. */
  async fetch (name: string, options: { signal?: AbortSignal } = {}): Promise<AddModelResult> {
    const source = this.source(name)
    if (source === undefined) throw new ModelNotFoundError(`no live peer advertises a model named ${JSON.stringify(name)} (see GET /v1/models)`, { details: { name } })
    const signal = options.signal === undefined ? this.#stopping.signal : AbortSignal.any([options.signal, this.#stopping.signal])
    const result = await this.#required().fetch({ name, digest: source.digest, hints: source.holders }, { signal })
    const done = this.progress().find(p => p.digest === source.digest)
    if (done !== undefined && done.bytesPerSecond > 0) this.#measuredMbPerS = done.bytesPerSecond / (1024 * 1024)
    await this.#c.catalog.refresh()
    return result
  }

  /** Starts (or joins) a fetch of `name` in the background: its progress now; `held` when it is already in the store. */
  async request (name: string): Promise<{ fetch: FetchProgress, held: boolean }> {
    const source = this.source(name)
    const here = this.#c.catalog.list().find(m => m.name === name && m.available && (source === undefined || m.digest === source.digest))
    if (here !== undefined) {
      const at = new Date().toISOString()
      return { held: true, fetch: { name, digest: here.digest, state: 'done', doneBytes: here.bytes, totalBytes: here.bytes, peer: null, bytesPerSecond: 0, holdersRejected: 0, startedAt: at } }
    }
    const running = this.fetch(name)
    running.catch((err: Error) => { this.#c.logger.warn({ model: name, err: err.message }, 'model fetch failed') })
    await Promise.resolve() // the fetch has registered its progress (or failed: no holder)
    const fetch = source === undefined ? undefined : this.progress().find(p => p.digest === source.digest)
    if (fetch === undefined) { await running; throw new Error('unreachable') }
    return { held: false, fetch }
  }

  /** With autoFetch: what a bid for a model task knows of a model only peers hold. */
  fetchFacts (model: string): ModelFacts | undefined {
    if (!this.#init.autoFetch) return undefined
    const source = this.source(model)
    if (source === undefined) return undefined
    const sizeMb = source.sizeMb ?? 0
    if (sizeMb > this.#init.fetchMaxMb) return undefined
    return { loaded: false, sizeMb, fetchMs: fetchTransferMs(sizeMb, this.#measuredMbPerS ?? DEFAULT_FETCH_MB_PER_S) }
  }

  /** The catalog as model tasks use it; with autoFetch, a model this node lacks is fetched first. */
  access (catalog: ModelCatalog): ModelAccess {
    return {
      settings: catalog.settings,
      observe: host => { catalog.observe(host) },
      resolve: async name => {
        try {
          return await catalog.resolve(name)
        } catch (err) {
          if (!this.#init.autoFetch || (err as Error).name !== 'ModelNotFoundError') throw err
          this.#c.logger.info({ model: name }, 'fetching a model from the mesh before running its task')
          await this.fetch(name)
          return catalog.resolve(name)
        }
      },
    }
  }

  #holders (digest: string, hints: readonly string[], signal: AbortSignal): AsyncIterable<PeerId> {
    return blobCandidates(this.#c.mesh, digest, { hints, signal, maxProviders: 8, maxConnectedPeers: 0, findProvidersTimeoutMs: 10_000, logger: this.#c.logger })
  }

  /** Announce every model this node holds on the DHT (once per digest per run; the DHT republishes). */
  #provideAll (): void {
    for (const m of this.#c.catalog.list()) {
      if (!m.available || this.#provided.has(m.digest)) continue
      this.#provided.add(m.digest)
      void (async () => {
        const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(60_000)])
        for await (const _ of this.#c.mesh.services.dht.provide(blobCid(m.digest), { signal })) { /* drain */ }
      })().catch((err: Error) => {
        this.#provided.delete(m.digest)
        this.#c.logger.debug({ digest: m.digest, err: err.message }, 'cannot announce a model on the DHT')
      })
    }
  }

  #required (): ModelFetcher {
    if (this.#fetcher === undefined) throw new Error('model fetching is not started')
    return this.#fetcher
  }
}
