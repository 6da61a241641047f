/**
 * A gryphgen node: data dir, mesh, capability adverts, peer book and HTTP API, with one
 * start/stop lifetime. Start order: files, LevelDB, worker processes (loading meanwhile), mesh,
 * adverts, API; stop in reverse. A failed start undoes what it started.
 */
import { ClassicLevel } from 'classic-level'
import type { Config } from './config/schema.js'
import { AddressInUseError, Lifecycle, NodeNotRunningError, componentLogger, type Logger } from '../base/index.js'
import { VERSION } from './version.js'
import { dataPath, readBootstrapFile, removeApiPort, writeApiPort } from './datadir/index.js'
import { openDataDir } from './datadir/open.js'
import { createMesh, learnAddresses, startMesh, type Mesh } from './mesh/libp2p.js'
import { BootstrapKeeper } from './mesh/bootstrap.js'
import { CapabilitySource } from './capabilities/source.js'
import { AdvertService } from './capabilities/advert-service.js'
import { PeerBook } from './peer-book.js'
import { TaskLedger, LedgerSync, CompactionSchedule } from '../ledger/index.js'
import { compactNow, retentionStatus, taskHistory } from './ledger-view.js'
import type { SandboxProbe } from '../sandbox/index.js'
import { cachedSandboxProbe, cachedStaticFacts } from './host-cache/index.js'
import { createWorkerPool, type WorkerPool } from '../workers/index.js'
import { TaskService } from '../tasks/index.js'
import { kindRegistry } from './kinds/index.js'
import { BlobStore, createBlobService, type BlobService } from '../blobs/index.js'
import { ModelCatalog, NodeModelFetching, hostSettings, meshModels, type MeshModel } from './models/index.js'
import { requireModel } from './api/openai-convert.js'
import { CorpusStore } from '../pipeline/corpus/index.js'
import { NodeCorpora } from './corpora.js'
import { apiTasks, describeNode, openDb, peerViews } from './describe.js'
import { BlobKeeping } from './blob-keeping.js'
import { ledgerBlobReferences } from './blob-references.js'
import { NodeMetrics, metricsSources, readiness } from './monitoring/index.js'
import { StatsHistory, syncLag, type PeerLag } from './stats/index.js'
import { buildApp, listenApi, type StatsHistoryT, type ApiCorpora, type ApiNode, type ApiTasks, type CompactBodyT, type HistoryT, type LedgerStatusT, type NodeBodyT, type PeerViewT, type ReadyT } from './api/index.js'

export interface NodeInit {
  config: Readonly<Config>
  logger: Logger
}

export class GryphgenNode implements ApiNode {
  readonly version = VERSION
  readonly config: Readonly<Config>
  readonly #log: Logger
  #mesh: Mesh | undefined
  #db: ClassicLevel<string, string> | undefined
  #adverts: AdvertService | undefined
  #bootstrap: BootstrapKeeper | undefined
  #capabilities: CapabilitySource | undefined
  #peerBook: PeerBook | undefined
  #ledger: TaskLedger | undefined
  #ledgerSync: LedgerSync | undefined
  #compaction: CompactionSchedule | undefined
  #sandbox: SandboxProbe | undefined
  #workers: WorkerPool | undefined
  #tasks: TaskService | undefined
  #blobs: BlobService | undefined
  #blobKeeping: BlobKeeping | undefined
  #models: ModelCatalog | undefined
  #fetching: NodeModelFetching | undefined
  #corpora: NodeCorpora | undefined
  #stats: StatsHistory | undefined
  #abort = new AbortController()
  readonly #life: Lifecycle
  #apiPort = 0
  #startedAt = new Date()
  #labels: string[]

  constructor (init: NodeInit) {
    this.config = init.config
    this.#log = init.logger
    this.#life = new Lifecycle(this.#log)
    this.#labels = [...init.config.labels]
  }

  get peerId (): string { return this.#required(this.#mesh, 'mesh').peerId.toString() }
  get mesh (): Mesh { return this.#required(this.#mesh, 'mesh') }
  get adverts (): AdvertService { return this.#required(this.#adverts, 'adverts') }
  get ledger (): TaskLedger { return this.#required(this.#ledger, 'ledger') }
  get ledgerSync (): LedgerSync { return this.#required(this.#ledgerSync, 'ledger sync') }
  get workers (): WorkerPool { return this.#required(this.#workers, 'workers') }
  get taskService (): TaskService { return this.#required(this.#tasks, 'tasks') }
  get models (): ModelCatalog { return this.#required(this.#models, 'models') }
  get modelFetch (): NodeModelFetching { return this.#required(this.#fetching, 'model fetching') }
  get tasks (): ApiTasks { return apiTasks(this.taskService, () => this.#required(this.#blobs, 'blobs')) }
  get blobs (): BlobKeeping { return this.#required(this.#blobKeeping, 'blobs') }
  get corpora (): ApiCorpora { return this.#required(this.#corpora, 'corpora') }
  get apiPort (): number { return this.#apiPort }
  get apiUrl (): string {
    const host = this.config.apiHost.includes(':') ? `[${this.config.apiHost}]` : this.config.apiHost
    return `http://${host}:${this.#apiPort}`
  }

  addresses (): string[] {
    return this.#mesh?.getMultiaddrs().map(a => a.toString()) ?? []
  }

  async start (options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.#start(options.signal)
    } catch (err) {
      await this.stop().catch(() => {})
      throw err
    }
  }

  async #start (signal: AbortSignal | undefined): Promise<void> {
    const { config } = this
    this.#startedAt = new Date()
    this.#abort = new AbortController()
    const { identity, swarmKey, token } = await openDataDir(config.dataDir, VERSION, this.#log)
    const life = this.#life
    const facts = await cachedStaticFacts({ dataDir: config.dataDir, version: VERSION })
    this.#db = await openDb(dataPath(config.dataDir, 'db'))
    const db = this.#db
    life.defer('db', async () => { await db.close() })
    const metrics = new NodeMetrics(config.metrics)
    const { workers } = config
    this.#workers = createWorkerPool({
      dataDir: config.dataDir, physicalCores: facts.cpu.physicalCores,
      endpoint: workers.endpoint,
      // One model process holds every loaded model; its slots are the context sequences.
      kinds: { exec: { ...workers.exec, nice: config.priority.taskNice }, model: { ...workers.model ?? { size: 1, slots: config.models.sequences }, nice: config.priority.modelNice } },
      logger: this.#log,
    })
    // Worker processes take a while to load: spawned once the db lock is held (no other node uses this data dir), they load while this process opens the rest.
    const pool = this.#workers
    const poolStarted = pool.start({ signal })
    poolStarted.catch(() => {}) // awaited below; a failure must not go unhandled meanwhile
    // Stopped after the task service (which aborts its runs first), then drained: up to 10 s.
    life.defer('workers', async () => { await pool.stop({ deadlineMs: 10_000 }) })
    this.#peerBook = new PeerBook(this.#db)
    const corpusLog = componentLogger(this.#log, 'corpus')
    const store = await CorpusStore.open(this.#db, { logger: corpusLog, signal })
    life.defer('corpora', async () => { await store.close() }) // its indexing worker thread
    const corpora = new NodeCorpora({
      store,
      tasks: () => this.tasks,
      blobs: () => this.#required(this.#blobs, 'blobs'),
      peerId: () => this.peerId,
      ...(config.models.embeddingModel === undefined ? {} : { embeddingModel: config.models.embeddingModel }),
      logger: corpusLog,
    })
    this.#corpora = corpora
    signal?.throwIfAborted()

    const [capabilities, invited, remembered] = await Promise.all([
      CapabilitySource.create({ dataDir: config.dataDir, name: config.name, version: VERSION, labels: this.#labels, resources: config.resources }, facts),
      readBootstrapFile(config.dataDir),
      this.#peerBook.recent({ signal }),
    ])
    const bootstrap = [...new Set([...config.bootstrap, ...invited, ...remembered])]
    // Known peers (bootstrap, peer book) get past the inbound limits that keep abusers out.
    const mesh = await createMesh({ privateKey: identity.key, swarmKey, listen: config.listen, mdns: config.mdns, known: bootstrap, metrics: await metrics.libp2pMetrics(), log: this.#log })
    this.#mesh = mesh
    life.defer('mesh', async () => { await mesh.stop() })
    this.#capabilities = capabilities
    const { machine } = capabilities
    this.#models = await ModelCatalog.open({
      dataDir: config.dataDir,
      settings: hostSettings(config.models, { physicalCores: machine.cpu.physicalCores, totalMemoryMb: config.resources.memoryMb ?? machine.memoryTotalMb }),
      logger: componentLogger(this.#log, 'models'),
    })
    const models = this.#models
    capabilities.setModels(models.capabilities())
    models.events.on('change', () => { capabilities.setModels(models.capabilities()); void this.#adverts?.publishNow() })
    await life.add('models', models, m => { m.start() })
    const ledger = new TaskLedger({ db, privateKey: identity.key, peerId: mesh.peerId.toString(), logger: componentLogger(this.#log, 'ledger') })
    await ledger.open()
    life.defer('ledger', async () => { await ledger.close() })
    this.#ledger = ledger
    await startMesh(mesh, config.listen)
    signal?.throwIfAborted()
    this.#ledgerSync = await life.add('ledger:sync', new LedgerSync({ mesh, ledger, logger: componentLogger(this.#log, 'ledger:sync') }), async s => { await s.start() })
    this.#compaction = await life.add('ledger:compaction', new CompactionSchedule({ retention: ledger.retention, logger: componentLogger(this.#log, 'ledger:compaction') }, config.ledger.retention), s => { s.start() })

    this.#adverts = new AdvertService({
      pubsub: mesh.services.pubsub,
      peerId: mesh.peerId.toString(),
      addresses: () => this.addresses(),
      capabilities,
      logger: componentLogger(this.#log, 'adverts'),
    }, config.advert)
    // The sandbox probe runs commands in it (~1 s of CPU): cached per host, advertised once known.
    const adopt = (probe: SandboxProbe): void => {
      this.#sandbox = probe
      capabilities.setSandbox({ available: probe.available, isolation: probe.isolation, limits: probe.limits, runtimes: [...probe.runtimes] })
      this.#log.info({ sandbox: probe }, probe.available ? 'sandbox available' : 'sandbox unavailable: this node will not run untrusted code')
      void this.#adverts?.publishNow()
    }
    void cachedSandboxProbe({ dataDir: config.dataDir, version: VERSION, onChange: adopt, logger: this.#log, signal: this.#abort.signal })
      .then(adopt, (err: Error) => { this.#log.warn({ err: err.message }, 'sandbox probe failed; advertising none') })
    this.#adverts.events.on('peer-seen', (id, addrs) => {
      void this.#peerBook?.remember(id, addrs, Date.now()).catch(() => {})
      void learnAddresses(mesh, id, addrs).catch(() => {})
    })
    await life.add('adverts', this.#adverts, a => { a.start() })
    const blobStore = await BlobStore.open({ dataDir: config.dataDir })
    life.defer('blob store', async () => { await blobStore.close() })
    const blobs = await life.add('blobs', createBlobService({ mesh, store: blobStore, logger: componentLogger(this.#log, 'blobs') }), async b => { await b.start() })
    this.#blobs = blobs
    const keeping = await BlobKeeping.open({ db, store: blobStore, service: blobs, references: ledgerBlobReferences(ledger), logger: componentLogger(this.#log, 'blobs:gc') }, config.blobs, { signal })
    this.#blobKeeping = await life.add('blobs:gc', keeping, k => { k.start() })
    const fetching = this.#fetching = await life.add('models:fetch', new NodeModelFetching({ mesh, catalog: models, dataDir: config.dataDir, adverts: this.#adverts, logger: componentLogger(this.#log, 'models:fetch') }, config.models), async f => { await f.start() })
    this.#tasks = new TaskService({
      mesh, ledger, workers: metrics.instrumentPool(pool), adverts: this.#adverts, capabilities, blobs: () => blobs, models: fetching.access(models), fetchable: m => fetching.fetchFacts(m), kinds: kindRegistry(), logger: componentLogger(this.#log, 'tasks'),
      synced: () => (this.#ledgerSync?.stats.syncs ?? 0) > 0,
      admission: { requireModel: name => { requireModel(name, this.meshModels()) }, shareCorpus: async (name, options) => corpora.share(name, options) },
      retrieve: async ({ name, ref }, query, { k, signal }) => {
        const results = ref === undefined ? await corpora.query(name, query, { k, signal }) : await corpora.retrieve(ref, query, { k, signal })
        return results.map(({ chunk }) => ({ source: `${chunk.source}:${chunk.startLine}-${chunk.endLine}`, text: chunk.text }))
      },
    }, config.auction)
    // Stopped first of the components: no new awards, runs aborted (their leases lapse, other nodes re-run them).
    await life.add('tasks', this.#tasks, async t => { await t.start() })
    this.#bootstrap = await life.add('bootstrap', new BootstrapKeeper(mesh, componentLogger(this.#log, 'bootstrap'), { addresses: bootstrap, identifyWatch: { heard: id => this.#adverts?.peers.get(id) !== undefined, graceMs: () => Math.max(15_000, this.#adverts?.expiryMs() ?? 0) } }), b => { b.start() })

    metrics.watch(metricsSources({ peerId: this.peerId, dbDir: dataPath(config.dataDir, 'db'), ledger, sync: () => this.#ledgerSync, tasks: () => this.#tasks, workers: () => this.#workers, adverts: () => this.#adverts, mesh: () => this.#mesh, models: () => this.#models }))
    life.defer('metrics', () => { metrics.stop() })
    this.#stats = await life.add('stats', new StatsHistory({
      nodes: async () => [{ peerId: this.peerId, name: config.name, cpuPercent: (await capabilities.current()).load.cpuPercent }, ...this.peers().map(p => ({ peerId: p.peerId, name: p.capabilities.name, cpuPercent: p.capabilities.load.cpuPercent }))],
      tasksIn: async (state, limit) => (await ledger.tasksByState(state, limit)).map(t => ({ node: t.attempts.at(-1)?.node })), onStateChange: listener => this.taskService.events.subscribe('*', e => { if (e.type === 'state') listener(e.task.state) }),
    }, componentLogger(this.#log, 'stats')), s => { s.start() })
    const app = buildApp({ node: this, token, logger: componentLogger(this.#log, 'api'), metrics, readiness: () => this.readiness(), corsOrigins: config.api.cors.origins, limits: config.apiLimits })
    // The API closes first on stop, and api-port goes with it.
    life.defer('api', async () => { await app.close(); await removeApiPort(config.dataDir) })
    this.#apiPort = await listenApi(app, config.apiHost, config.apiPort)
    await writeApiPort(config.dataDir, this.#apiPort)
    await poolStarted
    this.#log.info({
      peerId: this.peerId, name: config.name, listen: this.addresses(), api: this.apiUrl,
      token: dataPath(config.dataDir, 'apiToken'), bootstrap: bootstrap.length, mdns: config.mdns,
    }, 'gryphgen node started')
  }

  /** What the sandbox probe found (undefined until it has run). */
  get sandbox (): SandboxProbe | undefined { return this.#sandbox }

  /** Whether the node can take work (GET /v1/ready), with what it still waits for. */
  readiness (): ReadyT {
    return readiness({ meshStarted: this.#mesh?.status === 'started', ledgerOpen: this.#ledger !== undefined, workers: this.#workers?.stats().state, sandbox: this.#sandbox })
  }

  async stop (): Promise<void> {
    this.#abort.abort()
    // In the reverse of the start order: the API, the task service, ..., the worker pool, the database.
    await this.#life.stopAll()
    this.#tasks = undefined
    this.#workers = undefined
    this.#models = this.#fetching = undefined
    this.#bootstrap = undefined
    this.#adverts = undefined
    this.#ledgerSync = undefined
    this.#compaction = undefined
    this.#blobs = undefined
    this.#blobKeeping = undefined
    this.#ledger = undefined
    this.#corpora = undefined
    this.#mesh = undefined
    this.#db = undefined
  }

  async describe (): Promise<NodeBodyT> {
    return describeNode({
      peerId: this.peerId, name: this.config.name, startedAt: this.#startedAt, mdns: this.config.mdns, addresses: this.addresses(),
      mesh: this.mesh, capabilities: this.#required(this.#capabilities, 'capabilities'), adverts: this.adverts,
      bootstrap: this.#bootstrap, workers: this.workers, tasks: this.taskService, modelFetches: this.#fetching?.progress() ?? [],
    })
  }

  /** Every model of the mesh (this node's and its live peers'), by name. */
  meshModels (): MeshModel[] {
    return meshModels(this.peerId, this.models.capabilities(), this.adverts.livePeers().map(p => ({ peerId: p.advert.peerId, models: p.advert.capabilities.models })))
  }

  peers (): PeerViewT[] { return peerViews(this.adverts, this.mesh) }
  ledgerStatus (): LedgerStatusT { return { entries: this.ledger.entryCount(), indexed: this.ledger.indexedCount(), versionVector: this.ledger.versionVector() } }

  async ledgerRetention (): Promise<Partial<LedgerStatusT>> { return retentionStatus(this.ledger, this.#compaction) }
  async taskHistory (id: string): Promise<HistoryT | undefined> { return taskHistory(this.ledger, id) }
  async compactLedger (options: { olderThanMs?: number, signal?: AbortSignal }): Promise<CompactBodyT> {
    return compactNow(this.#required(this.#compaction, 'ledger compaction'), options)
  }

  statsHistory (): StatsHistoryT { return this.#required(this.#stats, 'stats').view() }
  ledgerPeers (): { peers: PeerLag[] } { return { peers: syncLag(this.ledger.versionVector(), this.ledgerSync.peerVectors()) } }

  async setLabels (labels: string[], options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.#labels = [...labels]
    this.#required(this.#capabilities, 'capabilities').setLabels(labels)
    await this.adverts.publishNow()
  }

  #required<T> (value: T | undefined, what: string): T {
    if (value === undefined) throw new NodeNotRunningError(`node is not started (${what})`)
    return value
  }
}
