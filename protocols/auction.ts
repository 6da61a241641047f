/**
 * The auction protocol (AUCTION_PROTOCOL): one request and one reply per stream,
 * length-prefixed JSON. Streams are authenticated by the connection (noise): the receiver
 * knows which peer sent each message, so a bid counts only from the peer that was asked,
 * and an award only from the task's auctioneer of record (the award carries the task's
 * signed ledger entries, which the winner verifies before it believes them).
 *
 *   auctioneer -> candidate   { t: 'bid?', task: { id, kind, priority, requirements, submittedAt } }
 *   candidate  -> auctioneer  { t: 'bid', task, costMs, completionMs } | { t: 'no-bid', task, reason }
 *   auctioneer -> winner      { t: 'award', task, attempt, entries: [Entry...] }
 *   winner     -> auctioneer  { t: 'accepted', task } | { t: 'declined', task, reason }
 *   any        -> peer        { t: 'replicate', entries: [Entry...] } -> { t: 'stored' }
 *   any        -> runner      { t: 'follow', task } -> { t: 'event', event }... until the task ends
 *   either way                { t: 'error', message }
 *
 * Leases ride on gossip (LEASE_TOPIC): every node that holds awarded tasks or runs
 * auctions publishes `{ held: [{ task, attempt }], auctions }` every heartbeat; the
 * message's signed `from` says whose it is. Pure: no I/O.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'
import { parseJsonBytes } from './json.js'
import { TaskIdSchema, validateEntry, type Entry } from './ledger.js'
import { RequirementsSchema } from './task.js'

export const AUCTION_PROTOCOL = '/gryphgen/auction/1.0.0'
/**
 * The same messages on one long-lived stream per pair of nodes (no stream set-up per
 * request): every frame is a 4-byte big-endian request id followed by the message's JSON;
 * a reply carries its request's id. Requests on a session are answered in any order.
 */
export const AUCTION_SESSION_PROTOCOL = '/gryphgen/auction-session/1.0.0'

export function encodeSessionFrame (id: number, message: AuctionMessage): Uint8Array {
  const json = Buffer.from(JSON.stringify(message), 'utf8')
  const frame = Buffer.allocUnsafe(4 + json.byteLength)
  frame.writeUInt32BE(id >>> 0, 0)
  json.copy(frame, 4)
  return frame
}

/** Split a session frame; the message bytes are decoded by the caller (decodeAuctionMessage). */
export function splitSessionFrame (frame: Uint8Array): { id: number, body: Uint8Array } {
  if (frame.byteLength < 6) throw new InvalidMessageError('auction session frame is too short')
  return { id: Buffer.from(frame.buffer, frame.byteOffset, 4).readUInt32BE(0), body: frame.subarray(4) }
}
export const LEASE_TOPIC = '/gryphgen/leases/1'
export const AUCTION_MAX_BYTES = 1024 * 1024
export const LEASE_MAX_HELD = 4096

const Ms = Type.Number({ minimum: 0 })
const Reason = Type.String({ maxLength: 2048 })
const strict = { additionalProperties: false } as const

const TaskSummary = Type.Object({
  id: TaskIdSchema,
  kind: Type.String({ minLength: 1, maxLength: 64 }),
  priority: Type.Integer({ minimum: 0, maximum: 9 }),
  requirements: RequirementsSchema,
  submittedAt: Type.Integer({ minimum: 0 }),
  /** A model task's size: prompt tokens (estimated) and most output tokens; bids price it by measured speeds. */
  work: Type.Optional(Type.Object({ promptTokens: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }), outputTokens: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }) }, strict)),
  /** An exec task's program (`sleep`, `python3 -m pytest`): bids price it by its own run history. */
  program: Type.Optional(Type.String({ minLength: 1, maxLength: 96 })),
}, strict)

const Schemas = {
  'bid?': Type.Object({ t: Type.Literal('bid?'), task: TaskSummary }, strict),
  bid: Type.Object({ t: Type.Literal('bid'), task: TaskIdSchema, costMs: Ms, completionMs: Ms }, strict),
  'no-bid': Type.Object({ t: Type.Literal('no-bid'), task: TaskIdSchema, reason: Reason }, strict),
  award: Type.Object({ t: Type.Literal('award'), task: TaskIdSchema, attempt: Type.Integer({ minimum: 1, maximum: 1000 }), entries: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 256 }) }, strict),
  accepted: Type.Object({ t: Type.Literal('accepted'), task: TaskIdSchema }, strict),
  declined: Type.Object({ t: Type.Literal('declined'), task: TaskIdSchema, reason: Reason }, strict),
  replicate: Type.Object({ t: Type.Literal('replicate'), entries: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 256 }) }, strict),
  stored: Type.Object({ t: Type.Literal('stored') }, strict),
  follow: Type.Object({ t: Type.Literal('follow'), task: TaskIdSchema }, strict),
  event: Type.Object({ t: Type.Literal('event'), event: Type.Record(Type.String(), Type.Unknown()) }, strict),
  error: Type.Object({ t: Type.Literal('error'), message: Reason }, strict),
} as const

type Raw = { [K in keyof typeof Schemas]: Type.Static<typeof Schemas[K]> }
export type AuctionMessage =
  | Exclude<Raw[keyof Raw], Raw['award'] | Raw['replicate']>
  | (Omit<Raw['award'], 'entries'> & { entries: Entry[] })
  | { t: 'replicate', entries: Entry[] }
export type AuctionMessageOf<T extends AuctionMessage['t']> = Extract<AuctionMessage, { t: T }>
export type TaskSummaryT = Type.Static<typeof TaskSummary>

const checks = Object.fromEntries(Object.entries(Schemas).map(([t, s]) => [t, Compile(s)])) as Record<string, ReturnType<typeof Compile>>

export function decodeAuctionMessage (bytes: Uint8Array): AuctionMessage {
  if (bytes.byteLength > AUCTION_MAX_BYTES) throw new InvalidMessageError(`auction message of ${bytes.byteLength} bytes is too large`)
  const value = parseJsonBytes(bytes, 'auction message') as { t?: unknown } | null
  const t = typeof value === 'object' && value !== null && typeof value.t === 'string' ? value.t : undefined
  const check = t === undefined ? undefined : checks[t]
  if (check === undefined) throw new InvalidMessageError('auction message has no known type `t`')
  if (!check.Check(value)) {
    const first = check.Errors(value)[0]
    throw new InvalidMessageError(`auction message '${t}' fails schema at ${first?.instancePath ?? ''}: ${first?.message ?? 'invalid'}`)
  }
  const message = value as AuctionMessage
  if (message.t === 'award' || message.t === 'replicate') return { ...message, entries: (message.entries as unknown[]).map(validateEntry) }
  return message
}

/** Decode and insist on one of the expected types. */
export function expectAuctionMessage<T extends AuctionMessage['t']> (bytes: Uint8Array, ...types: T[]): AuctionMessageOf<T> {
  const message = decodeAuctionMessage(bytes)
  if (message.t === 'error') throw new InvalidMessageError(`peer answered with an error: ${message.message}`)
  if (!(types as string[]).includes(message.t)) throw new InvalidMessageError(`expected ${types.join(' or ')}, got '${message.t}'`)
  return message as AuctionMessageOf<T>
}

export function encodeAuctionMessage (message: AuctionMessage): Uint8Array {
  return Buffer.from(JSON.stringify(message), 'utf8')
}

const LeaseSchema = Type.Object({
  held: Type.Array(Type.Object({ task: TaskIdSchema, attempt: Type.Integer({ minimum: 1, maximum: 1000 }) }, strict), { maxItems: LEASE_MAX_HELD }),
  auctions: Type.Integer({ minimum: 0 }),
}, strict)
const checkLease = Compile(LeaseSchema)
export type LeaseMessage = Type.Static<typeof LeaseSchema>

export function decodeLease (bytes: Uint8Array): LeaseMessage {
  if (bytes.byteLength > AUCTION_MAX_BYTES) throw new InvalidMessageError('lease message is too large')
  const value = parseJsonBytes(bytes, 'lease message')
  if (!checkLease.Check(value)) throw new InvalidMessageError('malformed lease message')
  return value
}

export function encodeLease (message: LeaseMessage): Uint8Array {
  return Buffer.from(JSON.stringify(message), 'utf8')
}
