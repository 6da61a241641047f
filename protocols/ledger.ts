/**
 * Task ledger entries: the wire and storage format of the replicated, signed task log.
 *
 * An entry is `{ v, author, seq, prev, hlc, type, task, body, sig }`. `sig` is the author's
 * Ed25519 signature over the canonical encoding of every other field (JSON with keys sorted,
 * no whitespace); the entry id is the SHA-256 of that same encoding, so `prev` (the id of the
 * author's entry seq - 1) hash-links each author's entries into a chain. Pure: no I/O.
 */
import { createHash } from 'node:crypto'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'
import { parseJsonBytes } from './json.js'

export const LEDGER_VERSION = 1 as const
export const LEDGER_TOPIC = '/gryphgen/ledger/1'
export const LEDGER_SYNC_PROTOCOL = '/gryphgen/ledger-sync/4.0.0'
/** Full compaction summaries by task id (protocols/ledger-sync.ts): a joiner made ready on a state table fetches them with it. */
export const LEDGER_SUMMARIES_PROTOCOL = '/gryphgen/ledger-summaries/2.0.0'
/** An entry larger than this (encoded) is rejected unread. */
export const ENTRY_MAX_BYTES = 256 * 1024

export const ENTRY_TYPES = ['submitted', 'awarded', 'started', 'finished', 'cancelled', 'retried', 'adopted', 'blocked', 'abandoned', 'checkpoint', 'feedback'] as const
export type EntryType = typeof ENTRY_TYPES[number]

const PeerIdText = Type.String({ minLength: 16, maxLength: 128, pattern: '^[1-9A-HJ-NP-Za-km-z]+$' })
const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' })
export const TaskIdSchema = Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })
const Attempt = Type.Integer({ minimum: 1, maximum: 1000 })
const Reason = Type.String({ maxLength: 2048 })
/**
 * Fencing epochs (issue 15): `awarded` and `adopted` entries written before epochs existed
 * lack the field and fail these schemas (InvalidMessageError: rejected, never applied).
 */
const Epoch = Type.Integer({ minimum: 1, maximum: 1_000_000 })

export const BodySchemas = {
  submitted: Type.Object({
    kind: Type.String({ minLength: 1, maxLength: 64 }),
    priority: Type.Integer({ minimum: 0, maximum: 9 }),
    /** The task as submitted: kind-specific fields, requirements and limits (validated by its kind). */
    spec: Type.Record(Type.String(), Type.Unknown()),
  }, { additionalProperties: false }),
  /**
   * `epoch`: the fencing token, the auctioneer's epoch (1 for the submitter, raised by each
   * `adopted`). The fold counts an award only at the task's current epoch, from its auctioneer.
   */
  awarded: Type.Object({ attempt: Attempt, node: PeerIdText, leaseMs: Type.Integer({ minimum: 100, maximum: 86_400_000 }), epoch: Epoch }, { additionalProperties: false }),
  started: Type.Object({ attempt: Attempt }, { additionalProperties: false }),
  finished: Type.Object({
    attempt: Attempt,
    /** `cancelled`: what a run printed before its task was cancelled (no effect on the state). */
    outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')]),
    resultDigest: Type.Optional(Hex64),
    error: Type.Optional(Reason),
    result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }, { additionalProperties: false }),
  cancelled: Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
  retried: Type.Object({ attempt: Attempt, reason: Reason }, { additionalProperties: false }),
  /** A node takes over the auction of a task whose auctioneer is gone; `epoch` = the task's epoch + 1. */
  adopted: Type.Object({ reason: Reason, epoch: Type.Integer({ minimum: 2, maximum: 1_000_000 }) }, { additionalProperties: false }),
  /** No node can run the task now (`wait`) or ever (`impossible`); grouped reasons. */
  blocked: Type.Object({
    verdict: Type.Union([Type.Literal('wait'), Type.Literal('impossible')]),
    nodes: Type.Integer({ minimum: 0 }),
    reasons: Type.Array(Type.Object({
      check: Type.String({ maxLength: 32 }),
      fit: Type.Union([Type.Literal('later'), Type.Literal('never')]),
      reason: Reason,
      nodes: Type.Integer({ minimum: 1 }),
    }, { additionalProperties: false }), { maxItems: 32 }),
  }, { additionalProperties: false }),
  /** The auctioneer gives up (attempts exhausted): the task fails. */
  abandoned: Type.Object({ reason: Reason }, { additionalProperties: false }),
  /**
   * A step of a long task (a `build` attempt) recorded by the node running the task's open
   * attempt: `step` numbers run 1, 2, ... across the task's attempts, so a task re-run on
   * another node resumes after the last one. Files are blobs; `summary` is kind-specific.
   */
  checkpoint: Type.Object({
    attempt: Attempt,
    step: Type.Integer({ minimum: 1, maximum: 10_000 }),
    basedOn: Type.Union([Type.Integer({ minimum: 1, maximum: 10_000 }), Type.Null()]),
    files: Type.Record(Type.String({ minLength: 1, maxLength: 512 }), Type.Object({ digest: Hex64, size: Type.Integer({ minimum: 0 }) }, { additionalProperties: false })),
    /** The files' contents too, when small: they then travel with the entry to every node (a blob lives where it was put). */
    inline: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 512 }), Type.String())),
    summary: Type.Record(Type.String(), Type.Unknown()),
  }, { additionalProperties: false }),
  /** A person's verdict on a task's outcome (any node may record it, any time). */
  feedback: Type.Object({ verdict: Type.Union([Type.Literal('accept'), Type.Literal('reject')]), note: Type.Optional(Reason) }, { additionalProperties: false }),
} as const

export type Bodies = { [K in EntryType]: Type.Static<typeof BodySchemas[K]> }

const HlcSchema = Type.Object({
  wall: Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 }),
  logical: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
}, { additionalProperties: false })

export const EntrySchema = Type.Object({
  v: Type.Literal(LEDGER_VERSION),
  author: PeerIdText,
  seq: Type.Integer({ minimum: 1 }),
  prev: Type.Union([Hex64, Type.Null()]),
  hlc: HlcSchema,
  type: Type.Union(ENTRY_TYPES.map(t => Type.Literal(t))),
  task: TaskIdSchema,
  body: Type.Record(Type.String(), Type.Unknown()),
  sig: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
}, { additionalProperties: false })

export type Hlc = Type.Static<typeof HlcSchema>
export type Entry = Omit<Type.Static<typeof EntrySchema>, 'type'> & { type: EntryType }
export type UnsignedEntry = Omit<Entry, 'sig'>

const checkEntry = Compile(EntrySchema)
const checkBody = Object.fromEntries(ENTRY_TYPES.map(t => [t, Compile(BodySchemas[t])])) as Record<EntryType, ReturnType<typeof Compile>>

/** Deterministic JSON: object keys sorted, no whitespace; rejects non-finite numbers. */
export function canonicalJson (value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidMessageError('non-finite number in entry')
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object') {
    const keys = Object.keys(value).filter(k => (value as Record<string, unknown>)[k] !== undefined).sort()
    return `{${keys.map(k => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  throw new InvalidMessageError(`unsupported value of type ${typeof value} in entry`)
}

/** The bytes that are signed and hashed: every field but `sig`. */
export function signingBytes (entry: UnsignedEntry): Uint8Array {
  const { v, author, seq, prev, hlc, type, task, body } = entry
  return Buffer.from(canonicalJson({ v, author, seq, prev, hlc, type, task, body }), 'utf8')
}

export function entryId (entry: UnsignedEntry): string {
  return createHash('sha256').update(signingBytes(entry)).digest('hex')
}

/**
 * Check an entry's shape and its body's schema (no signature, no chain). Returns the typed
 * entry or throws InvalidMessageError.
 */
export function validateEntry (value: unknown): Entry {
  if (!checkEntry.Check(value)) {
    const first = checkEntry.Errors(value)[0]
    throw new InvalidMessageError(`entry fails schema at ${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`)
  }
  const entry = value as Entry
  const body = checkBody[entry.type]
  if (!body.Check(entry.body)) {
    const first = body.Errors(entry.body)[0]
    throw new InvalidMessageError(`${entry.type} body fails schema at ${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`)
  }
  if ((entry.seq === 1) !== (entry.prev === null)) throw new InvalidMessageError('prev must be null exactly for seq 1')
  return entry
}

export function decodeEntryBytes (bytes: Uint8Array): Entry {
  if (bytes.byteLength > ENTRY_MAX_BYTES) throw new InvalidMessageError(`entry of ${bytes.byteLength} bytes exceeds ${ENTRY_MAX_BYTES}`)
  return validateEntry(parseJsonBytes(bytes, 'entry'))
}

export function encodeEntry (entry: Entry): Uint8Array {
  return Buffer.from(JSON.stringify(entry), 'utf8')
}

/** A gossip announcement on LEDGER_TOPIC: `{ entries: [Entry...] }`, one write group's worth. */
export const ANNOUNCE_MAX_ENTRIES = 256
export const ANNOUNCE_MAX_BYTES = 512 * 1024

export function encodeAnnouncement (entries: readonly Entry[]): Uint8Array {
  return Buffer.from(JSON.stringify({ entries }), 'utf8')
}

export function decodeAnnouncement (bytes: Uint8Array): Entry[] {
  if (bytes.byteLength > ANNOUNCE_MAX_BYTES + ENTRY_MAX_BYTES) throw new InvalidMessageError(`announcement of ${bytes.byteLength} bytes is too large`)
  const parsed = parseJsonBytes(bytes, 'announcement')
  const list = (parsed as { entries?: unknown } | null)?.entries
  if (parsed === null || typeof parsed !== 'object' || Object.keys(parsed).length !== 1 || !Array.isArray(list) || list.length === 0 || list.length > ANNOUNCE_MAX_ENTRIES) {
    throw new InvalidMessageError('announcement must be { entries: [1..256 entries] }')
  }
  return list.map(validateEntry)
}
