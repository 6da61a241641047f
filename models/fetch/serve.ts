/**
 * Server side of MODEL_FETCH_PROTOCOL: answer one request on one stream with the manifest of
 * the model file behind the digest, then its bytes from the asked chunk on. The file is read a
 * frame at a time (memory: two frames, one read while the other is sent, plus the stream's
 * buffer) and written as fast as the stream drains. A malformed request, a missed deadline or
 * a reset aborts the stream; nothing throws out of here (libp2p would swallow it and the
 * remote would only see a reset).
 */
import { open } from 'node:fs/promises'
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { MODEL_FETCH_FRAME_BYTES, MODEL_FETCH_REQUEST_MAX_BYTES, decodeModelFetchCredit, decodeModelFetchRequest, encodeModelFetchHeader, type ChunkManifest } from '../../protocols/index.js'
import type { Logger } from '../../base/index.js'

/** A model file this node holds, found by its digest. */
export interface HeldModelFile { path: string, digest: string, size: number, mtimeMs: number }

export interface ServeModelOptions {
  lookup: (digest: string) => Promise<HeldModelFile | undefined>
  manifest: (file: HeldModelFile) => Promise<ChunkManifest>
  /** false: answer `busy` (the holder serves as many fetches as it allows already). */
  admit: () => boolean
  signal: AbortSignal
  logger: Logger
  peer: string
}

export type ServeModelOutcome = 'served' | 'not-found' | 'busy' | 'failed'

export async function serveModelFetch (stream: Stream, options: ServeModelOptions): Promise<ServeModelOutcome> {
  const { signal, logger, peer } = options
  try {
    const lp = lpStream(stream, { maxDataLength: MODEL_FETCH_REQUEST_MAX_BYTES })
    const request = decodeModelFetchRequest((await lp.read({ signal })).subarray())
    const file = await options.lookup(request.digest)
    const refuse = file === undefined ? 'not-found' : options.admit() ? undefined : 'busy'
    if (refuse !== undefined || file === undefined) {
      await lp.write(encodeModelFetchHeader({ error: refuse ?? 'not-found' }), { signal })
      await stream.close({ signal })
      return refuse ?? 'not-found'
    }
    const manifest = await options.manifest(file)
    await lp.write(encodeModelFetchHeader(manifest), { signal })
    const handle = await open(file.path, 'r')
    try {
      let at = Math.min(file.size, request.fromChunk * manifest.chunkBytes)
      let upTo = 0
      // The next frame is read from disk while this one is sent.
      const readFrame = async (from: number): Promise<Buffer> => {
        const buffer = Buffer.allocUnsafe(Math.min(MODEL_FETCH_FRAME_BYTES, file.size - from))
        const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, from)
        if (bytesRead === 0) throw new Error(`${file.path} ended early`)
        return buffer.subarray(0, bytesRead)
      }
      let next = at < file.size ? readFrame(at) : undefined
      while (next !== undefined) {
        const frame = await next
        const after = at + frame.byteLength
        next = after < file.size ? readFrame(after) : undefined
        next?.catch(() => {}) // awaited on the next turn
        // Only what the client has given credit for: it reads and verifies as fast as it can.
        while (Math.floor(at / manifest.chunkBytes) >= upTo) upTo = Math.max(upTo, decodeModelFetchCredit((await lp.read({ signal })).subarray()))
        await lp.write(frame, { signal })
        at = after
      }
    } finally {
      await handle.close()
    }
    await stream.close({ signal })
    return 'served'
  } catch (err) {
    logger.debug({ peer, err: (err as Error).message }, 'model fetch request failed')
    stream.abort(err as Error)
    return 'failed'
  }
}
