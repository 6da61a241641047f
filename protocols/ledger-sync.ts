/**
 * Ledger sync protocol messages (LEDGER_SYNC_PROTOCOL, length-prefixed JSON over one stream):
 *   client -> server  { vv: { <author>: <highest contiguous seq> } }
 *   server -> client  {"table":{ signer, sig, rows }}\n<rows>
 *                                                      (snapshot join, only when the client's version
 *                                                       vector is below one of the server's checkpoints:
 *                                                       a state table row for every summary the server
 *                                                       holds, in task order, in signed pages:
 *                                                       protocols/snapshot-table.ts)
 *   server -> client  { checkpoints: [Entry...] }      (then each author's checkpoint entry)
 *   server -> client  { author, entries: [Entry...] }  (repeated; one author's consecutive run)
 *   client -> server  { ack: true }                    (after applying each batch of any kind)
 *   server -> client  { done: true }
 * Summaries (LEDGER_SUMMARIES_PROTOCOL, one request and one answer per stream):
 *   client -> server  { tasks: [<task id>...] }        (ascending, at most SNAPSHOT_PAGE_SUMMARIES)
 *   server -> client  {"page":{ signer, sig, sizes }}\n<summaries>  (those it holds, in that order,
 *                                                       up to SNAPSHOT_PAGE_BYTES; or { done: true }: none)
 * Flow control: the server keeps at most SYNC_WINDOW batches unacknowledged, so a slow
 * client holds at most SYNC_WINDOW x batch size in its buffers.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'
import { parseJsonBytes } from './json.js'
import { TaskIdSchema, validateEntry, type Entry } from './ledger.js'
import { decodeSnapshotPage, isSnapshotPageFrame, SNAPSHOT_PAGE_SUMMARIES, type SnapshotPage } from './snapshot-page.js'
import { decodeTablePage, isTablePageFrame, type TablePage } from './snapshot-table.js'

const RequestSchema = Type.Object({
  vv: Type.Record(Type.String({ maxLength: 128 }), Type.Integer({ minimum: 0 })),
}, { additionalProperties: false })
const BatchSchema = Type.Object({
  author: Type.String({ minLength: 16, maxLength: 128 }),
  entries: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 1000 }),
}, { additionalProperties: false })
const DoneSchema = Type.Object({ done: Type.Literal(true) }, { additionalProperties: false })
const CheckpointsSchema = Type.Object({ checkpoints: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false })
const checkCheckpoints = Compile(CheckpointsSchema)
const AckSchema = Type.Object({ ack: Type.Literal(true) }, { additionalProperties: false })
const checkAck = Compile(AckSchema)

export const SYNC_WINDOW = 4
export const ACK = new TextEncoder().encode('{"ack":true}')

export function decodeAck (bytes: Uint8Array): void {
  if (!checkAck.Check(parse(bytes))) throw new InvalidMessageError('malformed sync ack')
}

const checkRequest = Compile(RequestSchema)
const checkBatch = Compile(BatchSchema)
const checkDone = Compile(DoneSchema)

export interface SyncBatch { author: string, entries: Entry[] }
export type SyncMessage = SyncBatch | { done: true } | { page: SnapshotPage } | { table: TablePage } | { checkpoints: Entry[] }

const parse = (bytes: Uint8Array): unknown => parseJsonBytes(bytes, 'sync message')

export function decodeSyncRequest (bytes: Uint8Array): { vv: Record<string, number> } {
  const value = parse(bytes)
  if (!checkRequest.Check(value) || Object.keys(value.vv).length > 100_000) throw new InvalidMessageError('malformed sync request')
  return value
}

export function decodeSyncMessage (bytes: Uint8Array): SyncMessage {
  if (isTablePageFrame(bytes)) return { table: decodeTablePage(bytes) }
  if (isSnapshotPageFrame(bytes)) return { page: decodeSnapshotPage(bytes) }
  const value = parse(bytes)
  if (checkDone.Check(value)) return value
  if (checkCheckpoints.Check(value)) return { checkpoints: value.checkpoints.map(validateEntry) }
  if (!checkBatch.Check(value)) throw new InvalidMessageError('malformed sync batch')
  const entries = value.entries.map(validateEntry)
  if (entries.some(e => e.author !== value.author)) throw new InvalidMessageError('sync batch mixes authors')
  return { author: value.author, entries }
}

export function encodeSyncMessage (message: Exclude<SyncMessage, { page: SnapshotPage } | { table: TablePage }>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message))
}

/** A batch from entries already encoded as JSON (as the store keeps them): no re-encoding. */
export function encodeSyncBatchRaw (author: string, entryJson: readonly string[]): Uint8Array {
  return Buffer.from(`{"author":${JSON.stringify(author)},"entries":[${entryJson.join(',')}]}`, 'utf8')
}


const SummariesRequestSchema = Type.Object({ tasks: Type.Array(TaskIdSchema, { minItems: 1, maxItems: SNAPSHOT_PAGE_SUMMARIES }) }, { additionalProperties: false })
const checkSummariesRequest = Compile(SummariesRequestSchema)

export function encodeSummariesRequest (tasks: readonly string[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ tasks }))
}

export function decodeSummariesRequest (bytes: Uint8Array): string[] {
  const value = parse(bytes)
  if (!checkSummariesRequest.Check(value)) throw new InvalidMessageError('malformed summaries request')
  return value.tasks
}
