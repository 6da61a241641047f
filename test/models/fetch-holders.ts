/** Model fetch test helpers: padded test models (several chunks) and holders that lie or die. */
import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { MODEL_CHUNK_BYTES, MODEL_FETCH_FRAME_BYTES, MODEL_FETCH_PROTOCOL, decodeModelFetchRequest, encodeModelFetchHeader } from '../../protocols/index.js'
import type { Mesh } from '../../node/mesh/libp2p.js'

export { paddedTestModel } from '../../scripts/bench/padded-model.js'

/** Hints as holders, in order (what the node's advert/DHT discovery yields). */
export async function * hintedHolders (_digest: string, hints: readonly string[]): AsyncGenerator<PeerId> {
  for (const hint of hints) yield peerIdFromString(hint)
}

export type HolderLie = 'none' | 'corrupt-chunk-1' | 'die-after-2-chunks'

/** Serves `file` (with the true manifest), lying as told (or not: `none`); records the chunk each request started from. */
export async function lyingHolder (mesh: Mesh, file: string, lie: HolderLie): Promise<{ fromChunks: number[] }> {
  const bytes = await readFile(file)
  const chunks: string[] = []
  for (let at = 0; at < bytes.byteLength; at += MODEL_CHUNK_BYTES) chunks.push(createHash('sha256').update(bytes.subarray(at, at + MODEL_CHUNK_BYTES)).digest('hex'))
  const record = { fromChunks: [] as number[] }
  await mesh.handle(MODEL_FETCH_PROTOCOL, async stream => {
    const lp = lpStream(stream)
    try {
      const { fromChunk } = decodeModelFetchRequest((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray())
      record.fromChunks.push(fromChunk)
      await lp.write(encodeModelFetchHeader({ size: bytes.byteLength, chunkBytes: MODEL_CHUNK_BYTES, chunks }))
      const body = Buffer.from(bytes.subarray(fromChunk * MODEL_CHUNK_BYTES))
      const end = lie === 'die-after-2-chunks' ? (2 - fromChunk) * MODEL_CHUNK_BYTES + 1000 : body.byteLength
      if (lie === 'corrupt-chunk-1') body[(1 - fromChunk) * MODEL_CHUNK_BYTES + 77] ^= 0xff
      for (let at = 0; at < Math.min(end, body.byteLength); at += MODEL_FETCH_FRAME_BYTES) await lp.write(body.subarray(at, Math.min(end, at + MODEL_FETCH_FRAME_BYTES)))
      // Dies mid-chunk: its stream ends (closed, so that what it sent is delivered: the test knows what arrived).
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  })
  return record
}
