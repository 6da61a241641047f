/**
 * Client side of BLOB_PROTOCOL: ask one peer for one blob. Nothing the peer sends is trusted:
 * the header is schema-checked, the announced size must be within `maxBytes`, the frames must
 * add up to exactly that size, and the bytes must hash to the digest. Any violation is a
 * BlobPeerError (the caller tries another peer). Memory is bounded by `maxBytes` plus the
 * stream's read buffer (also bounded). The caller's signal is the stream's deadline.
 */
import { createHash } from 'node:crypto'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { PeerId, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { BLOB_CHUNK_BYTES, BLOB_PROTOCOL, decodeBlobHeader, encodeBlobRequest, type BlobHeader } from '../protocols/index.js'
import type { BlobsMesh } from './mesh.js'
import { BlobPeerError } from './errors.js'

export interface FetchFromPeerOptions {
  /** Largest blob accepted; a larger announced size is refused before any byte is read. */
  maxBytes: number
  /** Aborts the dial and the stream: the caller's signal with a deadline. */
  signal: AbortSignal
}

/** Errors of the length-prefixed reader that mean the peer broke the framing. */
const FRAMING_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'UnexpectedEOFError', 'StreamBufferError'])

/** Resolves with the verified bytes, or undefined when the peer answers that it has no such blob. */
export async function fetchBlobFromPeer (mesh: Pick<BlobsMesh, 'dialProtocol'>, peer: PeerId, digest: string, options: FetchFromPeerOptions): Promise<Uint8Array | undefined> {
  const { maxBytes, signal } = options
  const violation = (reason: string, cause?: unknown): BlobPeerError =>
    new BlobPeerError(`peer ${peer.toString()} ${reason}`, { cause, details: { peer: peer.toString(), reason } })
  const stream: Stream = await mesh.dialProtocol(peer, BLOB_PROTOCOL, { signal })
  try {
    const lp = lpStream(stream, { maxDataLength: BLOB_CHUNK_BYTES, maxBufferSize: maxBytes + 4 * BLOB_CHUNK_BYTES })
    const read = async (): Promise<Uint8ArrayList> => readFrame(lp, signal, violation)
    await lp.write(encodeBlobRequest({ digest }), { signal })
    let header: BlobHeader
    try {
      header = decodeBlobHeader((await read()).subarray())
    } catch (err) {
      throw err instanceof BlobPeerError ? err : violation('sent a malformed blob header', err)
    }
    if ('error' in header) {
      await stream.close({ signal }).catch(() => {})
      return undefined
    }
    if (header.size > maxBytes) throw violation(`announced ${header.size} bytes, over the limit of ${maxBytes}`)
    const bytes = new Uint8Array(header.size)
    const hash = createHash('sha256')
    let received = 0
    while (received < header.size) {
      const frame = await read()
      if (frame.byteLength === 0) throw violation('sent an empty frame')
      if (received + frame.byteLength > header.size) throw violation(`sent more than the ${header.size} bytes it announced`)
      for (const part of frame) {
        bytes.set(part, received)
        hash.update(part)
        received += part.byteLength
      }
    }
    if (hash.digest('hex') !== digest) throw violation('sent bytes that do not match the digest')
    await stream.close({ signal }).catch(() => {})
    return bytes
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

async function readFrame (lp: LengthPrefixedStream, signal: AbortSignal, violation: (reason: string, cause?: unknown) => BlobPeerError): Promise<Uint8ArrayList> {
  try {
    return await lp.read({ signal })
  } catch (err) {
    if (!signal.aborted && FRAMING_ERRORS.has((err as Error).name)) throw violation(`broke the framing (${(err as Error).name})`, err)
    throw err
  }
}
