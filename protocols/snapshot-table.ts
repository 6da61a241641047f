/**
 * Snapshot state tables: what a joining node is made ready on. One row per compacted task,
 * the task's folded state reduced to what lists and the recency index need, plus the SHA-256
 * digest of its full summary (fetched later, and accepted only if its bytes hash to it):
 *
 *   <task> <digest> <state> <updatedAt> <hlcKey of submitted> <kind, URI-encoded>
 *
 * (`digest`: base64url of SHA-256 over the summary's canonical bytes; `hlcKey`: the recency
 * index key of its submission, whose wall clock is the task's `submittedAt`.) A table page is
 * one length-prefixed frame of the sync stream:
 *
 *   {"table":{"signer":<peer id>,"sig":<base64url>,"rows":<count>}} \n <row>\n<row>\n...
 *
 * rows in ascending task order; `sig` is the signer's Ed25519 signature over SHA-256 of a
 * fixed context line and the body. A row is text the joiner stores as it came (the part after
 * the task id is the value of its L:table key): no JSON, no per-row parse beyond one pattern
 * check. Pure: shape checks only; ledger/table.ts checks the signature and the signer.
 */
import { createHash } from 'node:crypto'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'

/** At most this many rows in one table page (~120 bytes each: ~3 MiB). */
export const TABLE_PAGE_ROWS = 25_000
/** A table page's body is at most this many bytes (within SNAPSHOT_PAGE_MAX_ENCODED). */
export const TABLE_PAGE_BYTES = 4 * 1024 * 1024

const CONTEXT = 'gryphgen-snapshot-table-v1\n'
const NEWLINE = 0x0a
const SPACE = 0x20

/** One stored row (the value of L:table:<task>): digest, terminal state, updatedAt, submission hlcKey, kind. */
export const TABLE_ROW_VALUE = /^[A-Za-z0-9_-]{43} (succeeded|failed|cancelled) [0-9]{1,15} [0-9]{15}\.[0-9]{7} [A-Za-z0-9%._~!*'()-]{1,200}$/
/** A whole row and its newline, matched where the last one ended (sticky): no line is cut out to test it. */
const TABLE_ROW_AT = new RegExp(`[A-Za-z0-9_-]{8,64} ${TABLE_ROW_VALUE.source.slice(1, -1)}\n`, 'y')

const HeaderSchema = Type.Object({
  table: Type.Object({
    signer: Type.String({ minLength: 16, maxLength: 128 }),
    sig: Type.String({ minLength: 80, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }),
    rows: Type.Integer({ minimum: 1, maximum: TABLE_PAGE_ROWS }),
  }, { additionalProperties: false }),
}, { additionalProperties: false })
const checkHeader = Compile(HeaderSchema)

/** A table page as received: its rows' bytes, unchecked, with their signer and signature. */
export interface TablePage { signer: string, sig: string, rows: number, body: Uint8Array }

/** The fields of a stored row value. */
export interface TableRow { digest: string, state: 'succeeded' | 'failed' | 'cancelled', updatedAt: number, recent: string, kind: string }

/** The bytes a table page's signature covers. */
export function tableDigest (body: Uint8Array): Buffer {
  return createHash('sha256').update(CONTEXT).update(body).digest()
}

/** The digest a row names for a summary's canonical JSON. */
export function summaryDigest (json: string): string {
  return createHash('sha256').update(json).digest('base64url')
}

export function encodeTableRow (row: TableRow): string {
  return `${row.digest} ${row.state} ${row.updatedAt} ${row.recent} ${encodeURIComponent(row.kind)}`
}

export function decodeTableRow (value: string): TableRow {
  if (!TABLE_ROW_VALUE.test(value)) throw new InvalidMessageError('malformed snapshot table row')
  const [digest, state, updatedAt, recent, kind] = value.split(' ')
  return { digest, state: state as TableRow['state'], updatedAt: Number(updatedAt), recent, kind: decodeURIComponent(kind) }
}

/** Whether a frame with a newline (a page of summaries or of table rows) is a table page. */
export const isTablePageFrame = (bytes: Uint8Array): boolean => bytes.length > 10 && Buffer.from(bytes.buffer, bytes.byteOffset, 10).toString('latin1') === '{"table":{'

/** Split a received table frame and check its header's shape (no signature check). */
export function decodeTablePage (bytes: Uint8Array): TablePage {
  const cut = bytes.indexOf(NEWLINE)
  let header: unknown
  try { header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, cut))) } catch { throw new InvalidMessageError('snapshot table header is not UTF-8 JSON') }
  if (!checkHeader.Check(header)) throw new InvalidMessageError('malformed snapshot table header')
  return { ...header.table, body: bytes.subarray(cut + 1) }
}

/**
 * A page's rows as [task, stored value] pairs, each checked against the row pattern, in
 * strictly ascending task order, as many as the header says; throws InvalidMessageError.
 */
export function tableRows (page: TablePage): Array<[task: string, value: string]> {
  // Every byte of a valid row is ASCII: latin1 decoding is exact for them, and any other byte fails the pattern.
  const text = Buffer.from(page.body.buffer, page.body.byteOffset, page.body.length).toString('latin1')
  if (!text.endsWith('\n')) throw new InvalidMessageError('snapshot table body does not end with a row')
  const out: Array<[string, string]> = []
  let last = ''
  for (let at = 0; at < text.length;) {
    TABLE_ROW_AT.lastIndex = at
    if (!TABLE_ROW_AT.test(text)) throw new InvalidMessageError('malformed snapshot table row')
    const end = TABLE_ROW_AT.lastIndex - 1 // the newline: no row character matches one
    const space = text.indexOf(' ', at)
    const task = text.slice(at, space)
    if (task <= last) throw new InvalidMessageError('snapshot table rows are not in ascending task order')
    last = task
    out.push([task, text.slice(space + 1, end)])
    at = end + 1
  }
  if (out.length !== page.rows) throw new InvalidMessageError('snapshot table row count does not match its header')
  return out
}

/** Encode a table frame from [task, stored value] rows and a signature over tableDigest(body). */
export function encodeTablePage (rows: ReadonlyArray<readonly [string, string]>, sign: (digest: Uint8Array) => string, signer: string): Uint8Array {
  // Each row written into one buffer of the body's size: `+=` per row builds a rope of 100,000
  // pieces that Buffer.from must walk to flatten, and a join of them costs as much (profiled).
  let size = 0
  for (const [task, value] of rows) size += task.length + value.length + 2
  const body = Buffer.allocUnsafe(size)
  let at = 0
  for (const [task, value] of rows) {
    at += body.write(task, at, 'latin1')
    body[at++] = SPACE
    at += body.write(value, at, 'latin1')
    body[at++] = NEWLINE
  }
  const header = Buffer.from(JSON.stringify({ table: { signer, sig: sign(tableDigest(body)), rows: rows.length } }) + '\n', 'utf8')
  return Buffer.concat([header, body])
}
