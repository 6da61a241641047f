/**
 * Snapshot pages: how a ledger sync server sends its compaction summaries to a joining node.
 * One length-prefixed frame of the sync stream, not JSON as a whole (so 4 MiB of summaries
 * are neither escaped nor parsed twice):
 *
 *   {"page":{"signer":<peer id>,"sig":<base64url>,"sizes":[<bytes>...]}} \n <summary><summary>...
 *
 * a one-line JSON header (JSON.stringify never writes a raw newline), a newline, then the
 * summaries' canonical JSON bytes back to back, `sizes` giving each one's length, in task id
 * order. `sig` is the signer's Ed25519 signature over `pageDigest`: SHA-256 of a fixed context
 * line, the sizes and the body bytes. One signature per page replaces the three proof
 * signatures per summary a joiner checked before (the proofs stay inside each summary, for
 * audit). Pure: shape checks only; ledger/snapshot-page.ts checks the signature and that the
 * signer is a member.
 */
import { createHash } from 'node:crypto'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'
import { SUMMARY_MAX_BYTES } from './ledger-summary.js'

/** At most this many summaries in one page (the server also keeps a page under SNAPSHOT_PAGE_BYTES). */
export const SNAPSHOT_PAGE_SUMMARIES = 4000
/** A page's summaries add up to at most this many bytes (one summary may exceed it alone). */
export const SNAPSHOT_PAGE_BYTES = 4 * 1024 * 1024
/** The largest page frame a client accepts: a full page, or one largest summary, and the header. */
export const SNAPSHOT_PAGE_MAX_ENCODED = SNAPSHOT_PAGE_BYTES + SUMMARY_MAX_BYTES + 64 * 1024

const CONTEXT = 'gryphgen-snapshot-page-v1\n'
const NEWLINE = 0x0a

const HeaderSchema = Type.Object({
  page: Type.Object({
    signer: Type.String({ minLength: 16, maxLength: 128 }),
    sig: Type.String({ minLength: 80, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }),
    sizes: Type.Array(Type.Integer({ minimum: 2, maximum: SUMMARY_MAX_BYTES }), { minItems: 1, maxItems: SNAPSHOT_PAGE_SUMMARIES }),
  }, { additionalProperties: false }),
}, { additionalProperties: false })
const checkHeader = Compile(HeaderSchema)

/** A page as received: the summaries' bytes, unparsed, with their signer and signature. */
export interface SnapshotPage { signer: string, sig: string, sizes: number[], body: Uint8Array }

/** The bytes a page's signature covers. */
export function pageDigest (sizes: readonly number[], body: Uint8Array): Buffer {
  return createHash('sha256').update(CONTEXT).update(sizes.join(',') + '\n').update(body).digest()
}

/** Whether a sync frame is a snapshot page (the only frame with a newline). */
export const isSnapshotPageFrame = (bytes: Uint8Array): boolean => bytes.includes(NEWLINE)

/** Split a received page frame and check its shape (no signature check). */
export function decodeSnapshotPage (bytes: Uint8Array): SnapshotPage {
  const cut = bytes.indexOf(NEWLINE)
  let header: unknown
  try { header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, cut))) } catch { throw new InvalidMessageError('snapshot page header is not UTF-8 JSON') }
  if (!checkHeader.Check(header)) throw new InvalidMessageError('malformed snapshot page header')
  const body = bytes.subarray(cut + 1)
  if (header.page.sizes.reduce((a, b) => a + b, 0) !== body.length) throw new InvalidMessageError('snapshot page sizes do not add up to its body')
  return { ...header.page, body }
}

/** Split a page's body into its summaries' JSON texts; throws InvalidMessageError on bytes that are not UTF-8. */
export function pageSummaries (page: SnapshotPage): string[] {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const out: string[] = []
  let at = 0
  try {
    for (const size of page.sizes) { out.push(decoder.decode(page.body.subarray(at, at + size))); at += size }
  } catch {
    throw new InvalidMessageError('a snapshot page holds a summary that is not UTF-8')
  }
  return out
}

/** Encode a page frame from stored summary JSON texts (not re-encoded) and a signature over pageDigest(sizes, body). */
export function encodeSnapshotPage (summaries: readonly string[], sign: (digest: Uint8Array) => string, signer: string): Uint8Array {
  const parts = summaries.map(json => Buffer.from(json, 'utf8'))
  const sizes = parts.map(p => p.length)
  const body = Buffer.concat(parts)
  const header = Buffer.from(JSON.stringify({ page: { signer, sig: sign(pageDigest(sizes, body)), sizes } }) + '\n', 'utf8')
  return Buffer.concat([header, body])
}
