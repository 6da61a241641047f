/**
 * Model fetch protocol (MODEL_FETCH_PROTOCOL, one stream per try, every frame length-prefixed):
 *   client -> server  { digest, fromChunk }                              (JSON, <= MODEL_FETCH_REQUEST_MAX_BYTES)
 *   server -> client  { size, chunkBytes, prefixes: [sha256 hex...] } | { error }  (JSON, <= MODEL_FETCH_HEADER_MAX_BYTES)
 *   client -> server  { upTo }   credit: the server may send chunks below `upTo` (repeated as chunks arrive)
 *   server -> client  the file's bytes from `fromChunk * chunkBytes` to its end, in frames of
 *                     1..MODEL_FETCH_FRAME_BYTES, never a chunk the client has not given credit for
 * then the server closes. The credit keeps at most MODEL_FETCH_WINDOW_CHUNKS chunks in flight:
 * without it a fast sender piles its data into the connection's buffers (libp2p's transport
 * layers do not push back end to end), and pnet's cipher fails on one buffer over 64 MB.
 * `digest` is the SHA-256 of the whole GGUF file (what adverts carry). `prefixes` is the
 * manifest: entry i is the SHA-256 of the file's first (i + 1) * chunkBytes bytes (the last
 * entry: of the whole file, so it must be `digest`). A receiver that hashes the chunks in order
 * with one running hash checks each chunk (a copy of the running state, finalized) and the
 * whole file in one pass over the bytes; chunk hashes of their own would need a second pass.
 * The price: a chunk can be verified only after every chunk before it (the fetch is in order).
 * The client trusts nothing: it checks the manifest's shape against the size and its last entry
 * against `digest`, each chunk against the manifest as it arrives (a lying peer is dropped
 * after at most one chunk). 2.0.0: 1.0.0's manifest hashed each chunk alone. Pure: no I/O.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidMessageError } from '../base/index.js'
import { parseJsonBytes } from './json.js'
import { DIGEST_PATTERN } from './blob.js'

export const MODEL_FETCH_PROTOCOL = '/gryphgen/model-fetch/2.0.0'
export const MODEL_FETCH_REQUEST_MAX_BYTES = 256
/** Chunk size of every manifest: a lying peer costs at most this much before it is caught. */
export const MODEL_CHUNK_BYTES = 4 * 1024 * 1024
/** Manifests cover files up to MODEL_CHUNK_BYTES x this (256 GiB). */
export const MODEL_MAX_CHUNKS = 65_536
export const MODEL_FETCH_HEADER_MAX_BYTES = 128 + MODEL_MAX_CHUNKS * 67
/** 4 MiB frames (a chunk a frame) were tried: ~2x the CPU per GiB with both ends in one process (bench:model-fetch --one-process). */
export const MODEL_FETCH_FRAME_BYTES = 1024 * 1024

/** Chunks a client lets the server send ahead of what it has verified. */
export const MODEL_FETCH_WINDOW_CHUNKS = 2

export const MODEL_FETCH_ERRORS = ['not-found', 'unavailable', 'busy'] as const
export type ModelFetchErrorCode = typeof MODEL_FETCH_ERRORS[number]

const Digest = Type.String({ pattern: DIGEST_PATTERN.source })
const RequestSchema = Type.Object({
  digest: Digest,
  fromChunk: Type.Integer({ minimum: 0, maximum: MODEL_MAX_CHUNKS }),
}, { additionalProperties: false })
const CreditSchema = Type.Object({ upTo: Type.Integer({ minimum: 0, maximum: MODEL_MAX_CHUNKS + MODEL_FETCH_WINDOW_CHUNKS }) }, { additionalProperties: false })
const HeaderSchema = Type.Union([
  Type.Object({
    size: Type.Integer({ minimum: 1, maximum: MODEL_CHUNK_BYTES * MODEL_MAX_CHUNKS }),
    chunkBytes: Type.Literal(MODEL_CHUNK_BYTES),
    prefixes: Type.Array(Digest, { minItems: 1, maxItems: MODEL_MAX_CHUNKS }),
  }, { additionalProperties: false }),
  Type.Object({ error: Type.Union(MODEL_FETCH_ERRORS.map(e => Type.Literal(e))) }, { additionalProperties: false }),
])

export type ModelFetchRequest = Type.Static<typeof RequestSchema>
/** The manifest of one file: its size and the SHA-256 of its prefix up to each chunk's end. */
export interface ChunkManifest { size: number, chunkBytes: number, prefixes: string[] }
export type ModelFetchHeader = ChunkManifest | { error: ModelFetchErrorCode }

const checkRequest = Compile(RequestSchema)
const checkHeader = Compile(HeaderSchema)
const checkCredit = Compile(CreditSchema)
const encoder = new TextEncoder()

/** How many chunks a file of `size` bytes has. */
export function chunkCount (size: number, chunkBytes = MODEL_CHUNK_BYTES): number {
  return Math.ceil(size / chunkBytes)
}

export function encodeModelFetchRequest (request: ModelFetchRequest): Uint8Array {
  return encoder.encode(JSON.stringify({ digest: request.digest, fromChunk: request.fromChunk }))
}

export function decodeModelFetchRequest (bytes: Uint8Array): ModelFetchRequest {
  if (bytes.byteLength > MODEL_FETCH_REQUEST_MAX_BYTES) throw new InvalidMessageError('model fetch request too large')
  const value = parseJsonBytes(bytes, 'model fetch request')
  if (!checkRequest.Check(value)) throw new InvalidMessageError('malformed model fetch request')
  return value
}

export function encodeModelFetchHeader (header: ModelFetchHeader): Uint8Array {
  return encoder.encode(JSON.stringify(header))
}

/** Also checks that the manifest has exactly one hash per chunk of `size` (not its last entry: the caller knows the digest). */
export function decodeModelFetchHeader (bytes: Uint8Array): ModelFetchHeader {
  if (bytes.byteLength > MODEL_FETCH_HEADER_MAX_BYTES) throw new InvalidMessageError('model fetch header too large')
  const value = parseJsonBytes(bytes, 'model fetch header')
  if (!checkHeader.Check(value)) throw new InvalidMessageError('malformed model fetch header')
  const header = value as ModelFetchHeader
  if ('size' in header && header.prefixes.length !== chunkCount(header.size, header.chunkBytes)) {
    throw new InvalidMessageError(`model fetch manifest has ${header.prefixes.length} prefix hashes for ${chunkCount(header.size, header.chunkBytes)} chunks`)
  }
  return header
}

export function encodeModelFetchCredit (upTo: number): Uint8Array {
  return encoder.encode(JSON.stringify({ upTo }))
}

/** The chunk index the server may send up to (exclusive). */
export function decodeModelFetchCredit (bytes: Uint8Array): number {
  if (bytes.byteLength > MODEL_FETCH_REQUEST_MAX_BYTES) throw new InvalidMessageError('model fetch credit too large')
  const value = parseJsonBytes(bytes, 'model fetch credit')
  if (!checkCredit.Check(value)) throw new InvalidMessageError('malformed model fetch credit')
  return (value as { upTo: number }).upTo
}
