/**
 * Blob fetch protocol (BLOB_PROTOCOL, one stream per fetch, every frame length-prefixed):
 *   client -> server  { digest }            (JSON, <= BLOB_REQUEST_MAX_BYTES)
 *   server -> client  { size } | { error }  (JSON, <= BLOB_HEADER_MAX_BYTES)
 *   server -> client  the blob's bytes, in frames of 1..BLOB_CHUNK_BYTES, exactly `size` in all
 * then the server closes. A blob reference is `{ digest, size }`, digest = lowercase hex
 * SHA-256 of the bytes. The client trusts nothing: it checks the size against its own limit
 * and the bytes against the digest. Pure: no I/O.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'
import { parseJsonBytes } from './json.js'

export const BLOB_PROTOCOL = '/gryphgen/blob/1.0.0'
export const BLOB_REQUEST_MAX_BYTES = 256
export const BLOB_HEADER_MAX_BYTES = 256
export const BLOB_CHUNK_BYTES = 256 * 1024
export const DIGEST_PATTERN = /^[0-9a-f]{64}$/

/** Why a server has no bytes for a request: it does not hold the blob, or cannot serve now. */
export const BLOB_ERRORS = ['not-found', 'unavailable'] as const
export type BlobErrorCode = typeof BLOB_ERRORS[number]

const Digest = Type.String({ pattern: DIGEST_PATTERN.source })
export const BlobRefSchema = Type.Object({
  digest: Digest,
  size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
}, { additionalProperties: false })
export type BlobRef = Type.Static<typeof BlobRefSchema>

const RequestSchema = Type.Object({ digest: Digest }, { additionalProperties: false })
const HeaderSchema = Type.Union([
  Type.Object({ size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false }),
  Type.Object({ error: Type.Union(BLOB_ERRORS.map(e => Type.Literal(e))) }, { additionalProperties: false }),
])
export type BlobRequest = Type.Static<typeof RequestSchema>
export type BlobHeader = { size: number } | { error: BlobErrorCode }

const checkRequest = Compile(RequestSchema)
const checkHeader = Compile(HeaderSchema)
const encoder = new TextEncoder()

export function encodeBlobRequest (request: BlobRequest): Uint8Array {
  return encoder.encode(JSON.stringify({ digest: request.digest }))
}

export function decodeBlobRequest (bytes: Uint8Array): BlobRequest {
  if (bytes.byteLength > BLOB_REQUEST_MAX_BYTES) throw new InvalidMessageError('blob request too large')
  const value = parseJsonBytes(bytes, 'blob request')
  if (!checkRequest.Check(value)) throw new InvalidMessageError('malformed blob request')
  return value
}

export function encodeBlobHeader (header: BlobHeader): Uint8Array {
  return encoder.encode(JSON.stringify(header))
}

export function decodeBlobHeader (bytes: Uint8Array): BlobHeader {
  if (bytes.byteLength > BLOB_HEADER_MAX_BYTES) throw new InvalidMessageError('blob header too large')
  const value = parseJsonBytes(bytes, 'blob header')
  if (!checkHeader.Check(value)) throw new InvalidMessageError('malformed blob header')
  return value as BlobHeader
}
