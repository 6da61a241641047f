/**
 * Server side of BLOB_PROTOCOL: answer one request on one stream. Only verified bytes are
 * served (the store checks the digest on read); a corrupt local copy is answered as
 * `not-found`. A malformed request or a missed deadline aborts the stream; nothing throws
 * out of here (libp2p would swallow it and the remote would only see a reset).
 */
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { BLOB_CHUNK_BYTES, BLOB_REQUEST_MAX_BYTES, decodeBlobRequest, encodeBlobHeader } from '../protocols/index.js'
import type { Logger } from '../base/index.js'
import type { BlobStore } from './store.js'

export type ServeOutcome = 'served' | 'not-found' | 'unavailable' | 'failed'

export async function serveBlobRequest (stream: Stream, store: BlobStore, options: { signal: AbortSignal, logger: Logger, peer: string }): Promise<ServeOutcome> {
  const { signal, logger, peer } = options
  try {
    const lp = lpStream(stream, { maxDataLength: BLOB_REQUEST_MAX_BYTES })
    const { digest } = decodeBlobRequest((await lp.read({ signal })).subarray())
    let bytes: Uint8Array | undefined
    let outcome: ServeOutcome = 'served'
    try {
      bytes = await store.get(digest, { signal })
      if (bytes === undefined) outcome = 'not-found'
    } catch (err) {
      if (signal.aborted) throw err
      outcome = (err as Error).name === 'BlobCorruptError' ? 'not-found' : 'unavailable'
      logger.warn({ digest, err: (err as Error).message }, 'cannot serve a stored blob')
    }
    if (bytes === undefined) {
      await lp.write(encodeBlobHeader({ error: outcome === 'not-found' ? 'not-found' : 'unavailable' }), { signal })
    } else {
      await lp.write(encodeBlobHeader({ size: bytes.byteLength }), { signal })
      for (let at = 0; at < bytes.byteLength; at += BLOB_CHUNK_BYTES) {
        await lp.write(bytes.subarray(at, at + BLOB_CHUNK_BYTES), { signal })
      }
    }
    await stream.close({ signal })
    return outcome
  } catch (err) {
    logger.debug({ peer, err: (err as Error).message }, 'blob request failed')
    stream.abort(err as Error)
    return 'failed'
  }
}
