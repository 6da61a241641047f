/**
 * Client side of MODEL_FETCH_PROTOCOL: ask one holder for the rest of one model, from the
 * download's first missing chunk. Nothing the holder sends is trusted: the header is
 * schema-checked, its size must be within `maxBytes` and match what the mesh advertised, its
 * manifest must end in the model's digest and agree with the chunks verified so far (a resumed
 * download keeps them), and each chunk must match its prefix digest before it is written. Any violation is a
 * ModelHolderError and the caller asks another holder; verified chunks stay.
 * Memory: two chunks (one filling while the other is written) plus the stream's bounded read
 * buffer. Credit for the next chunk goes out as soon as one verifies, before its write ends, so
 * the holder's sending, this side's hashing and the disk write overlap.
 * `idleMs` bounds each wait for a frame.
 */
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { PeerId, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MODEL_FETCH_FRAME_BYTES, MODEL_FETCH_HEADER_MAX_BYTES, MODEL_FETCH_PROTOCOL, MODEL_FETCH_WINDOW_CHUNKS, decodeModelFetchHeader, encodeModelFetchCredit, encodeModelFetchRequest, type ModelFetchErrorCode, type ModelFetchHeader } from '../../protocols/index.js'
import type { PartialModel } from './partial.js'
import { sharedChunkBuffer } from './prefix-hasher.js'
import { ModelHolderError, ModelFetchTooLargeError } from './errors.js'

/** What the fetch needs of the mesh: a dial. */
export interface ModelFetchMesh { dialProtocol: (peer: PeerId, protocol: string, options: { signal: AbortSignal }) => Promise<Stream> }

export interface FetchFromHolderOptions {
  maxBytes: number
  /** The size the mesh advertised, when known: a holder announcing another is refused. */
  expectedBytes?: number
  idleMs: number
  signal: AbortSignal
  onChunk: (doneBytes: number, totalBytes: number) => void
}

const FRAMING_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'UnexpectedEOFError', 'StreamBufferError'])

/** 'done' when the download is complete, else why this holder had nothing to give. */
export async function fetchFromHolder (mesh: ModelFetchMesh, peer: PeerId, partial: PartialModel, options: FetchFromHolderOptions): Promise<'done' | ModelFetchErrorCode> {
  const { signal } = options
  const violation = (reason: string, cause?: unknown): ModelHolderError =>
    new ModelHolderError(`holder ${peer.toString()} ${reason}`, { cause, details: { peer: peer.toString(), reason } })
  const stream = await mesh.dialProtocol(peer, MODEL_FETCH_PROTOCOL, { signal: AbortSignal.any([signal, AbortSignal.timeout(options.idleMs)]) })
  const idle = idleDeadline(options.idleMs)
  try {
    const lp = lpStream(stream, { maxDataLength: Math.max(MODEL_FETCH_HEADER_MAX_BYTES, MODEL_FETCH_FRAME_BYTES), maxBufferSize: 4 * MODEL_FETCH_HEADER_MAX_BYTES })
    const frameSignal = AbortSignal.any([signal, idle.signal])
    const read = async (): Promise<Uint8ArrayList> => {
      idle.restart()
      return readFrame(lp, frameSignal, signal, violation)
    }
    await lp.write(encodeModelFetchRequest({ digest: partial.digest, fromChunk: partial.verifiedChunks }), { signal })
    let header: ModelFetchHeader
    try {
      header = decodeModelFetchHeader((await read()).subarray())
    } catch (err) {
      throw err instanceof ModelHolderError ? err : violation('sent a malformed header', err)
    }
    if ('error' in header) {
      await stream.close({ signal }).catch(() => {})
      return header.error
    }
    if (header.size > options.maxBytes) {
      throw new ModelFetchTooLargeError(`model ${partial.digest} is ${header.size} bytes, over this node's limit of ${options.maxBytes} (models.fetchMaxMb)`, { details: { size: header.size, maxBytes: options.maxBytes } })
    }
    if (options.expectedBytes !== undefined && header.size !== options.expectedBytes) throw violation(`announced ${header.size} bytes; the model is ${options.expectedBytes}`)
    if (header.prefixes.at(-1) !== partial.digest) throw violation('sent a manifest whose whole-file hash is not the model\'s digest')
    if (!await partial.adopt(header)) throw violation('sent a manifest that disagrees with the chunks verified so far')
    await lp.write(encodeModelFetchCredit(partial.verifiedChunks + MODEL_FETCH_WINDOW_CHUNKS), { signal })
    const buffers = [sharedChunkBuffer(header.chunkBytes), sharedChunkBuffer(header.chunkBytes)] // hashed where they lie
    let chunk = buffers[0]
    let filled = 0
    while (!partial.complete) {
      const want = partial.nextChunkBytes()
      const frame = await read()
      if (frame.byteLength === 0) throw violation('sent an empty frame')
      if (filled + frame.byteLength > want) throw violation('sent a frame across a chunk boundary')
      for (const part of frame) { chunk.set(part, filled); filled += part.byteLength }
      if (filled < want) continue
      if (!await partial.append(chunk.subarray(0, want))) throw violation(`sent chunk ${partial.verifiedChunks} that does not match its hash`)
      chunk = chunk === buffers[0] ? buffers[1] : buffers[0] // the other one's write has ended
      filled = 0
      if (!partial.complete) await lp.write(encodeModelFetchCredit(partial.verifiedChunks + MODEL_FETCH_WINDOW_CHUNKS), { signal })
      options.onChunk(partial.doneBytes, header.size)
    }
    await stream.close({ signal }).catch(() => {})
    return 'done'
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    idle.stop()
  }
}

/** One deadline for a stream's waits, restarted before each (a timer pushed back, not two signals a frame). */
function idleDeadline (ms: number): { signal: AbortSignal, restart: () => void, stop: () => void } {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new DOMException(`no frame for ${ms} ms`, 'TimeoutError')) }, ms).unref()
  return { signal: controller.signal, restart: () => { timer.refresh() }, stop: () => { clearTimeout(timer) } }
}

async function readFrame (lp: LengthPrefixedStream, frameSignal: AbortSignal, signal: AbortSignal, violation: (reason: string, cause?: unknown) => ModelHolderError): Promise<Uint8ArrayList> {
  try {
    return await lp.read({ signal: frameSignal })
  } catch (err) {
    if (signal.aborted) throw err
    if (frameSignal.aborted) throw violation('stalled', err)
    if (FRAMING_ERRORS.has((err as Error).name)) throw violation(`broke the framing (${(err as Error).name})`, err)
    throw violation(`ended the stream early (${(err as Error).name})`, err)
  }
}
