/**
 * The injected embedding function, called in bounded batches and checked: one vector per
 * text, finite numbers, one dimension throughout (and the corpus's, once it has one). Vectors
 * come back as unit vectors.
 */
import { checkAborted, InvalidEmbeddingError } from './errors.js'
import { unitVector } from './fuse.js'

/** Embeds texts: one vector per text, in order. */
export type EmbedFunction = (texts: string[], signal?: AbortSignal) => Promise<number[][]>

export const EMBED_BATCH = 32
const MAX_DIMS = 16_384

export async function embedTexts (embed: EmbedFunction, texts: readonly string[], options: { signal?: AbortSignal, dims?: number | null } = {}): Promise<Float32Array[]> {
  const out: Float32Array[] = []
  let dims = options.dims ?? undefined
  for (let i = 0; i < texts.length; i += EMBED_BATCH) {
    checkAborted(options.signal, 'embedding')
    const batch = texts.slice(i, i + EMBED_BATCH)
    const vectors: unknown = await embed(batch, options.signal)
    if (!Array.isArray(vectors) || vectors.length !== batch.length) {
      throw new InvalidEmbeddingError(`the embedding function gave ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${batch.length} texts`)
    }
    for (const vector of vectors as unknown[]) {
      if (!Array.isArray(vector) || vector.length === 0 || vector.length > MAX_DIMS || !vector.every(v => typeof v === 'number' && Number.isFinite(v))) {
        throw new InvalidEmbeddingError(`the embedding function gave something other than 1 to ${MAX_DIMS} finite numbers`)
      }
      dims ??= vector.length
      if (vector.length !== dims) throw new InvalidEmbeddingError(`the embedding function gave a ${vector.length}-dimensional vector where the corpus has ${dims} dimensions`, { details: { expected: dims, got: vector.length } })
      out.push(unitVector(vector as number[]))
    }
  }
  return out
}
