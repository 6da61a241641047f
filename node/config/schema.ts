/**
 * The node's configuration: one schema that validates the merged result of defaults,
 * config file, environment and flags. Pure: no I/O here.
 */
import Type from 'typebox'
import { GpuSchema, LabelSchema } from '../../protocols/index.js'

export { GpuSchema, LabelSchema }

/** What a node declares about itself where detection is wrong or absent. */
export const DeclaredResourcesSchema = Type.Object({
  cpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_536 })),
  memoryMb: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_073_741_824 })),
  gpus: Type.Optional(Type.Array(GpuSchema, { maxItems: 64 })),
  arch: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
}, { additionalProperties: false })

/** The auction's knobs (docs/ARCHITECTURE.md explains each). */
export const AuctionSchema = Type.Object({
  /** Candidates asked for bids per auction (the best k by predicted cost). */
  bidders: Type.Integer({ minimum: 1, maximum: 64 }),
  /** How long an auctioneer waits for bids. */
  bidTimeoutMs: Type.Integer({ minimum: 10, maximum: 60_000 }),
  /** An awarded task whose holder sends no heartbeat for this long is re-auctioned. */
  leaseMs: Type.Integer({ minimum: 500, maximum: 3_600_000 }),
  /** Lease renewal (gossip) interval; well under leaseMs. */
  heartbeatMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
  /** Attempts per task before it is abandoned (failed). */
  maxAttempts: Type.Integer({ minimum: 1, maximum: 100 }),
  /** Queue aging: a waiting task gains one priority level per agingMs. */
  agingMs: Type.Integer({ minimum: 1000, maximum: 86_400_000 }),
}, { additionalProperties: false })

const AutoOr = (schema: ReturnType<typeof Type.Integer>) => Type.Union([Type.Literal('auto'), schema])

/** How this node runs local models (docs/MODELS.md explains each). */
export const ModelsSchema = Type.Object({
  /** llama.cpp threads per context; 'auto' picks from the physical cores (never more). */
  threads: AutoOr(Type.Integer({ minimum: 1, maximum: 1024 })),
  /** Memory for loaded models; 'auto' is half the machine's memory. Least recently used models are unloaded to stay under it. */
  memoryBudgetMb: AutoOr(Type.Integer({ minimum: 64, maximum: 1_073_741_824 })),
  /** Requests one loaded model serves at once (context sequences). */
  sequences: Type.Integer({ minimum: 1, maximum: 64 }),
  /** Context tokens per sequence (capped by what the model was trained for). */
  contextSize: Type.Integer({ minimum: 64, maximum: 1_048_576 }),
  /** Layers offloaded to a GPU: 'auto' (what fits, where a GPU exists) or a count (0: CPU only). */
  gpuLayers: AutoOr(Type.Integer({ minimum: 0, maximum: 10_000 })),
  /** The model (by name, on any node of the mesh) that embeds corpus chunks and queries; none: corpora rank by BM25 alone. */
  embeddingModel: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  /** Bid for model tasks whose model a peer holds, fetching it first (the transfer time is in the bid). */
  autoFetch: Type.Boolean(),
  /** Largest model this node fetches from peers (`gryphgen model fetch`, autoFetch). */
  fetchMaxMb: Type.Integer({ minimum: 1, maximum: 16_777_216 }),
}, { additionalProperties: false })

/** Limits on HTTP API requests (node/api/guards.ts). */
export const ApiLimitsSchema = Type.Object({
  /** A request body must arrive whole within this (408 otherwise). */
  bodyReadTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
  /** Body cap of `POST /v1/corpora/:name/documents` (413 above it). */
  documentsBodyMb: Type.Integer({ minimum: 1, maximum: 1024 }),
  /** Heavy requests (corpus uploads) handled at once. */
  heavyConcurrency: Type.Integer({ minimum: 1, maximum: 64 }),
  /** Heavy requests that may wait for a turn (503 beyond). */
  heavyQueue: Type.Integer({ minimum: 0, maximum: 1024 }),
}, { additionalProperties: false })

/** Monitoring (README "Monitoring"): who may scrape GET /metrics, and whether libp2p's own metrics are in it. */
export const MetricsSchema = Type.Object({
  /** Serve /metrics without the bearer token (for a Prometheus that cannot send one). */
  public: Type.Boolean(),
  /** Add libp2p's metrics (@libp2p/prometheus-metrics): right only with one node per process. */
  libp2p: Type.Boolean(),
}, { additionalProperties: false })

/** Browser origins allowed to call the API (CORS); none: CORS is off. */
export const ApiSchema = Type.Object({
  cors: Type.Object({
    origins: Type.Array(Type.String({ pattern: '^https?://[^/?#\\s]+$', maxLength: 255 }), { maxItems: 64, uniqueItems: true }),
  }, { additionalProperties: false }),
}, { additionalProperties: false })

/** Ledger retention (docs/ARCHITECTURE.md, Task ledger: retention and compaction). */
export const RetentionSchema = Type.Object({
  /** Tasks that ended longer ago than this are compacted to summaries (0: never; default 7 days). */
  afterMs: Type.Integer({ minimum: 0, maximum: 10 * 365 * 86_400_000 }),
  /** How often compaction runs (default 1 hour). */
  everyMs: Type.Integer({ minimum: 1000, maximum: 7 * 86_400_000 }),
  /** Summaries of compacted tasks unchanged for longer than this expire to a tombstone (0: kept forever; default 90 days). */
  summariesMs: Type.Integer({ minimum: 0, maximum: 100 * 365 * 86_400_000 }),
}, { additionalProperties: false })

/** The blob store's bounds (docs/ARCHITECTURE.md, "Blob garbage collection"). */
export const BlobsSchema = Type.Object({
  /** Size cap of the blob store in MiB: above it, blobs neither pinned nor in use are removed, oldest first. */
  maxMb: Type.Integer({ minimum: 1, maximum: 1_073_741_824 }),
  /** A blob that no task in the ledger references is removed once stored this long (0: never). */
  keepUnreferencedMs: Type.Integer({ minimum: 0, maximum: 3_153_600_000_000 }),
  /** How often garbage collection runs (also soon after a put takes the store over its cap). */
  gcIntervalMs: Type.Integer({ minimum: 1000, maximum: 86_400_000 }),
}, { additionalProperties: false })

/** CPU priorities (docs/ARCHITECTURE.md, "CPU priorities"): the node's own process keeps its niceness; its workers run below it. */
export const PrioritySchema = Type.Object({
  /** Niceness of the exec workers and so of every sandboxed task process (0: as the node; 19: lowest). */
  taskNice: Type.Integer({ minimum: 0, maximum: 19 }),
  /** Niceness of the model worker and llama.cpp's compute threads. */
  modelNice: Type.Integer({ minimum: 0, maximum: 19 }),
}, { additionalProperties: false })

export const ConfigSchema = Type.Object({
  dataDir: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1, maxLength: 64 }),
  listen: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 32 }),
  apiHost: Type.String({ minLength: 1, maxLength: 255 }),
  apiPort: Type.Integer({ minimum: 0, maximum: 65_535 }),
  bootstrap: Type.Array(Type.String({ minLength: 1 }), { maxItems: 256 }),
  mdns: Type.Boolean(),
  labels: Type.Array(LabelSchema, { maxItems: 32 }),
  resources: DeclaredResourcesSchema,
  logLevel: Type.Union([
    Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'),
    Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent'),
  ]),
  workers: Type.Object({
    /** Broker endpoint: default `ipc://<data-dir>/workers.sock`; `tcp://127.0.0.1:PORT` for workers in containers. */
    endpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    /** Worker processes per kind: exec defaults to the physical cores, model to 1 (one process holds every loaded model). */
    exec: Type.Optional(Type.Object({ size: Type.Integer({ minimum: 0, maximum: 256 }), slots: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })) }, { additionalProperties: false })),
    model: Type.Optional(Type.Object({ size: Type.Integer({ minimum: 0, maximum: 256 }), slots: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })) }, { additionalProperties: false })),
  }, { additionalProperties: false }),
  auction: AuctionSchema,
  models: ModelsSchema,
  apiLimits: ApiLimitsSchema,
  blobs: BlobsSchema,
  advert: Type.Object({
    /** Shortest mean interval between two adverts of this node. */
    baseIntervalMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
    /** Ceiling on adverts per second that any node receives, whatever the mesh size. */
    maxReceiveRate: Type.Number({ minimum: 0.1, maximum: 1000 }),
  }, { additionalProperties: false }),
  metrics: MetricsSchema,
  api: ApiSchema,
  ledger: Type.Object({ retention: RetentionSchema }, { additionalProperties: false }),
  priority: PrioritySchema,
}, { additionalProperties: false })

export type Config = Type.Static<typeof ConfigSchema>
export type DeclaredResources = Type.Static<typeof DeclaredResourcesSchema>
export type { Gpu } from '../../protocols/index.js'
export type ModelsConfig = Type.Static<typeof ModelsSchema>
export type BlobsConfig = Type.Static<typeof BlobsSchema>

/** The part of the config a file may set: everything, each key optional. */
export const ConfigFileSchema = Type.Partial(Type.Object({ ...ConfigSchema.properties, auction: Type.Partial(AuctionSchema, { additionalProperties: false }), models: Type.Partial(ModelsSchema, { additionalProperties: false }), apiLimits: Type.Partial(ApiLimitsSchema, { additionalProperties: false }), blobs: Type.Partial(BlobsSchema, { additionalProperties: false }), metrics: Type.Partial(MetricsSchema, { additionalProperties: false }), priority: Type.Partial(PrioritySchema, { additionalProperties: false }), ledger: Type.Object({ retention: Type.Optional(Type.Partial(RetentionSchema, { additionalProperties: false })) }, { additionalProperties: false }) }), { additionalProperties: false })
export type ConfigFile = Type.Static<typeof ConfigFileSchema>
