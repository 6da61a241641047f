/** Model fetch test helpers: padded test models (several chunks) and holders that lie or die. */
import { readFile } from 'node:fs/promises'
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { MODEL_CHUNK_BYTES, MODEL_FETCH_FRAME_BYTES, MODEL_FETCH_PROTOCOL, decodeModelFetchRequest, encodeModelFetchHeader } from '../../protocols/index.js'
import type { Mesh } from '../../node/mesh/libp2p.js'
import { chunkManifestOf } from '../../models/index.js'

export { paddedTestModel } from '../../scripts/bench/padded-model.js'

/** Hints as holders, in order (what the node's advert/DHT discovery yields). */
export async function * hintedHolders (_digest: string, hints: readonly string[]): AsyncGenerator<PeerId> {
  for (const hint of hints) yield peerIdFromString(hint)
}

/**
 * `false-digest`: a manifest whose last prefix digest is not the file's; `false-prefix-2`: the
 * true bytes under a manifest that lies about chunk 2's prefix digest (its last entry is true);
 * `stall-after-1-chunk`: sends chunk 0, then nothing, holding the stream open until the fetcher ends it.
 */
export type HolderLie = 'none' | 'corrupt-chunk-1' | 'die-after-2-chunks' | 'false-digest' | 'false-prefix-2' | 'stall-after-1-chunk'

/** Serves `file` (with the true manifest unless it lies about it), lying as told (or not: `none`); records the chunk each request started from. */
export async function lyingHolder (mesh: Mesh, file: string, lie: HolderLie): Promise<{ fromChunks: number[] }> {
  const bytes = await readFile(file)
  const manifest = await chunkManifestOf(file, bytes.byteLength, AbortSignal.timeout(5000))
  const falseAt = lie === 'false-digest' ? manifest.prefixes.length - 1 : lie === 'false-prefix-2' ? 2 : -1
  if (falseAt >= 0) manifest.prefixes[falseAt] = manifest.prefixes[falseAt].replace(/^./, c => c === '0' ? '1' : '0')
  const record = { fromChunks: [] as number[] }
  await mesh.handle(MODEL_FETCH_PROTOCOL, async stream => {
    const lp = lpStream(stream)
    try {
      const { fromChunk } = decodeModelFetchRequest((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray())
      record.fromChunks.push(fromChunk)
      await lp.write(encodeModelFetchHeader(manifest))
      const body = Buffer.from(bytes.subarray(fromChunk * MODEL_CHUNK_BYTES))
      const end = lie === 'die-after-2-chunks' ? (2 - fromChunk) * MODEL_CHUNK_BYTES + 1000 : lie === 'stall-after-1-chunk' ? (1 - fromChunk) * MODEL_CHUNK_BYTES : body.byteLength
      if (lie === 'corrupt-chunk-1') body[(1 - fromChunk) * MODEL_CHUNK_BYTES + 77] ^= 0xff
      for (let at = 0; at < Math.min(end, body.byteLength); at += MODEL_FETCH_FRAME_BYTES) await lp.write(body.subarray(at, Math.min(end, at + MODEL_FETCH_FRAME_BYTES)))
      if (lie === 'stall-after-1-chunk') await new Promise(resolve => { stream.addEventListener('close', resolve, { once: true }) })
      // Dies mid-chunk: its stream ends (closed, so that what it sent is delivered: the test knows what arrived).
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  })
  return record
}
