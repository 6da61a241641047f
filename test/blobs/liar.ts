/** A raw mesh that answers the blob protocol with lies, to test that fetchers reject them. */
import { randomBytes } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import { BLOB_PROTOCOL } from '../../protocols/blob.js'
import type { Mesh } from '../../node/mesh/libp2p.js'

export type Lie = 'wrong-bytes' | 'too-large' | 'more-than-announced' | 'malformed-header' | 'oversized-frame' | 'stall'

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

/** Registers a blob handler on `mesh` that answers every request with `lie`; counts the requests. */
export async function lieAboutBlobs (mesh: Mesh, lie: Lie, maxBytes = 64 * 1024 * 1024): Promise<{ requests: number }> {
  const counter = { requests: 0 }
  await mesh.handle(BLOB_PROTOCOL, async (stream) => {
    counter.requests++
    const lp = lpStream(stream)
    try {
      await lp.read({ signal: AbortSignal.timeout(5000) })
      switch (lie) {
        case 'wrong-bytes': await lp.write(json({ size: 1000 })); await lp.write(randomBytes(1000)); break
        case 'too-large': await lp.write(json({ size: maxBytes + 1 })); await lp.write(randomBytes(1000)); break
        case 'more-than-announced': await lp.write(json({ size: 10 })); await lp.write(randomBytes(100)); break
        case 'malformed-header': await lp.write(json({ size: 10, trust: 'me' })); await lp.write(randomBytes(10)); break
        case 'oversized-frame': await lp.write(json({ size: 1024 * 1024 })); await lp.write(randomBytes(1024 * 1024)); break
        case 'stall': await new Promise(resolve => setTimeout(resolve, 20_000)); break
        default: lie satisfies never
      }
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  })
  return counter
}
