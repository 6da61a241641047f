/**
 * Embedding vectors as `embed` tasks return them: inline (`vectors`) or, when large, as one
 * blob of little-endian float32 rows (`vectorsBlob`, with `count` and `dimensions`).
 */
import { GryphgenError } from '../../base/index.js'

/** An embed result that is not vectors of the stated shape. */
export class InvalidVectorsError extends GryphgenError {}

/** Rows of numbers as little-endian float32, row after row. */
export function packFloat32 (rows: readonly number[][]): Uint8Array {
  const view = new DataView(new ArrayBuffer(rows.reduce((n, r) => n + r.length, 0) * 4))
  let at = 0
  for (const row of rows) for (const v of row) { view.setFloat32(at, v, true); at += 4 }
  return new Uint8Array(view.buffer)
}

/** Rows of little-endian float32 (an offloaded embed result) back to vectors. */
export function unpackFloat32 (bytes: Uint8Array, count: number, dimensions: number): number[][] {
  if (!Number.isInteger(count) || !Number.isInteger(dimensions) || bytes.byteLength !== count * dimensions * 4) {
    throw new InvalidVectorsError(`vector blob has ${bytes.byteLength} bytes, expected ${count * dimensions * 4}`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return Array.from({ length: count }, (_, r) => Array.from({ length: dimensions }, (_, c) => view.getFloat32((r * dimensions + c) * 4, true)))
}

/** The vectors of a finished embed task's result, fetching the blob when they were offloaded. */
export async function vectorsOfResult (result: Record<string, unknown>, blobs: { get: (digest: string, options: { signal?: AbortSignal }) => Promise<Uint8Array> }, signal?: AbortSignal): Promise<number[][]> {
  const blob = result.vectorsBlob as { digest?: unknown } | undefined
  if (blob === undefined) {
    if (!Array.isArray(result.vectors)) throw new InvalidVectorsError('the embed result has no vectors')
    return result.vectors as number[][]
  }
  if (typeof blob.digest !== 'string') throw new InvalidVectorsError('the embed result names no vector blob')
  return unpackFloat32(await blobs.get(blob.digest, { signal }), result.count as number, result.dimensions as number)
}
