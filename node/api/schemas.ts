/** HTTP request and response schemas of the node API (v1). */
import Type from 'typebox'
import { CapabilitiesSchema, LabelSchema, TaskIdSchema } from '../../protocols/index.js'
import { WorkerPoolStatsSchema } from '../../workers/index.js'

export const ErrorBody = Type.Object({ error: Type.Object({ name: Type.String(), message: Type.String() }) })

export const HealthBody = Type.Object({ ok: Type.Boolean(), peerId: Type.String(), version: Type.String() })

/** One model fetch as GET /v1/node and POST /v1/models/fetch show it. */
export const ModelFetchView = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  state: Type.Union([Type.Literal('waiting'), Type.Literal('fetching'), Type.Literal('adding'), Type.Literal('done'), Type.Literal('failed')]),
  doneBytes: Type.Integer(),
  totalBytes: Type.Union([Type.Integer(), Type.Null()]),
  peer: Type.Union([Type.String(), Type.Null()]),
  bytesPerSecond: Type.Number(),
  holdersRejected: Type.Integer(),
  startedAt: Type.String(),
  error: Type.Optional(Type.Object({ name: Type.String(), message: Type.String() })),
})

export const NodeBody = Type.Object({
  peerId: Type.String(),
  name: Type.String(),
  startedAt: Type.String(),
  addresses: Type.Array(Type.String()),
  connections: Type.Object({ inbound: Type.Integer(), outbound: Type.Integer() }),
  capabilities: CapabilitiesSchema,
  adverts: Type.Object({ published: Type.Integer(), accepted: Type.Integer(), rejected: Type.Integer(), stale: Type.Integer() }),
  bootstrap: Type.Array(Type.Object({ address: Type.String(), ok: Type.Boolean(), error: Type.Optional(Type.String()), at: Type.Integer() })),
  /** Every bootstrap address the node keeps dialing (flags, config, invite, remembered peers); absent from older nodes. */
  bootstrapAddresses: Type.Optional(Type.Array(Type.String())),
  mdns: Type.Boolean(),
  workers: WorkerPoolStatsSchema,
  tasks: Type.Object({
    auctioneering: Type.Integer({ description: 'unfinished tasks this node is the auctioneer of' }),
    queued: Type.Integer(),
    running: Type.Integer(),
    auctions: Type.Record(Type.String(), Type.Integer()),
    leases: Type.Record(Type.String(), Type.Integer()),
  }),
  /** Models being fetched from peers, and the last few fetched (docs/MODELS.md, "Models that travel the mesh"). */
  modelFetches: Type.Optional(Type.Array(ModelFetchView)),
})

export const PeerView = Type.Object({
  peerId: Type.String(),
  addresses: Type.Array(Type.String()),
  capabilities: CapabilitiesSchema,
  lastSeen: Type.String({ description: 'ISO time of the latest advert' }),
  clockSkewMs: Type.Integer(),
  connected: Type.Boolean(),
})

export const PeersBody = Type.Object({ peers: Type.Array(PeerView) })

export const LabelsRequest = Type.Object({ labels: Type.Array(LabelSchema, { maxItems: 32 }) }, { additionalProperties: false })

export type PeerViewT = Type.Static<typeof PeerView>
export type NodeBodyT = Type.Static<typeof NodeBody>

export const LedgerStatusBody = Type.Object({
  entries: Type.Integer(),
  /** Entries already folded into task states (behind `entries` only while indexing catches up). */
  indexed: Type.Integer(),
  versionVector: Type.Record(Type.String(), Type.Integer()),
  /** Entries still in the log (above each author's checkpoint). */
  liveEntries: Type.Optional(Type.Integer()),
  /** Entries replaced by summaries and checkpoints (on this node or before it joined). */
  compactedEntries: Type.Optional(Type.Integer()),
  /** Tasks this node compacted to summaries, or received as summaries. */
  compactedTasks: Type.Optional(Type.Integer()),
  /** Compacted tasks whose summaries expired (`ledger.retention.summariesMs`): a tombstone each. */
  expiredTasks: Type.Optional(Type.Integer()),
  /** The ledger's share of the node's LevelDB on disk (approximate). */
  bytesOnDisk: Type.Optional(Type.Integer()),
  oldestLiveEntry: Type.Optional(Type.Union([Type.Object({ author: Type.String(), seq: Type.Integer(), at: Type.String() }), Type.Null()])),
  lastCompactionAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** Null when compaction is off (`ledger.retention.afterMs` 0). */
  nextCompactionAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  retention: Type.Optional(Type.Object({ afterMs: Type.Integer(), everyMs: Type.Integer(), summariesMs: Type.Optional(Type.Integer()) })),
})

/** `POST /v1/ledger/compact`: compact now the tasks that ended more than `olderThanMs` ago (default: `ledger.retention.afterMs`). */
export const CompactRequest = Type.Object({ olderThanMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 * 365 * 86_400_000 })) }, { additionalProperties: false })
export const CompactBody = Type.Object({ tasks: Type.Integer(), entries: Type.Integer(), horizon: Type.String() })

const EntryBody = Type.Object({
  id: Type.String(), v: Type.Integer(), author: Type.String(), seq: Type.Integer(), prev: Type.Union([Type.String(), Type.Null()]),
  hlc: Type.Object({ wall: Type.Integer(), logical: Type.Integer() }), type: Type.String(), task: Type.String(),
  body: Type.Record(Type.String(), Type.Unknown()), sig: Type.String(),
})

export const HistoryBody = Type.Object({
  /** The task's entries in the log: after a compaction, only those that came after its summary. */
  entries: Type.Array(EntryBody),
  /** The task's entries were compacted: `summary` replaces them (folded state, deciding entries, covered seqs). */
  compacted: Type.Optional(Type.Boolean()),
  /** The summary expired too (`ledger.retention.summariesMs`): neither entries nor summary remain. */
  expired: Type.Optional(Type.Boolean()),
  /** This node joined by state table and no peer has given it the summary yet: neither entries nor summary here. */
  partial: Type.Optional(Type.Boolean()),
  summary: Type.Optional(Type.Object({
    v: Type.Integer(), task: Type.String(), state: Type.Record(Type.String(), Type.Unknown()),
    proof: Type.Array(Type.Record(Type.String(), Type.Unknown())), upTo: Type.Record(Type.String(), Type.Integer()),
  })),
})

export const TaskIdParams = Type.Object({ id: TaskIdSchema }, { additionalProperties: false })

export type LedgerStatusT = Type.Static<typeof LedgerStatusBody>
export type HistoryT = Type.Static<typeof HistoryBody>

/** Every error answer: `{ error: { name, message, type } }` (+ `code`, `param` for OpenAI clients, `details` listing problems). */
export const ApiErrorBody = Type.Object({
  error: Type.Object({
    name: Type.String({ description: 'stable error name, e.g. ValidationError, UnauthorizedError, NotFoundError' }),
    message: Type.String(),
    type: Type.String({ description: 'the error class in OpenAI\'s words (invalid_request_error, authentication_error, ...)' }),
    code: Type.Optional(Type.String()),
    param: Type.Optional(Type.String()),
    details: Type.Optional(Type.Array(Type.String())),
  }),
}, { description: 'an error' })

export const ReadyCheck = Type.Object({
  name: Type.Union([Type.Literal('mesh'), Type.Literal('ledger'), Type.Literal('workers'), Type.Literal('sandbox')]),
  ok: Type.Boolean(),
  reason: Type.Optional(Type.String({ description: 'why it is not ready, or what it found' })),
})
export const ReadyBody = Type.Object({ ready: Type.Boolean(), checks: Type.Array(ReadyCheck) }, { description: '200 when ready, 503 with the reasons otherwise' })
export type ReadyT = Type.Static<typeof ReadyBody>
export type CompactBodyT = Type.Static<typeof CompactBody>
