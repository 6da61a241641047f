/**
 * Embeddings: one vector per text, in input order, from the model's embedding context (one
 * sequence: texts are evaluated one after another, each from an empty state, so a text's
 * vector never depends on the others). A text over the context is refused before any is
 * evaluated; an empty text is embedded as the beginning-of-text token alone.
 */
import type { LlamaEmbeddingContext, Token } from 'node-llama-cpp'
import { abortError } from './abort.js'
import { PromptTooLongError } from './errors.js'

export interface Embeddings { vectors: number[][], dimensions: number, promptTokens: number }

export interface EmbeddingShape {
  /** Tokens the embedding context holds. */
  contextSize: number
  /** The model's vector length. */
  dimensions: number
  bos: Token | null
}

export async function embedTexts (embedding: LlamaEmbeddingContext, shape: EmbeddingShape, texts: readonly string[], signal: AbortSignal): Promise<Embeddings> {
  const { contextSize, dimensions, bos } = shape
  const lengths = texts.map(text => embedding.calculateInputLength(text))
  const longest = lengths.reduce((at, n, i) => n > (lengths[at] ?? 0) ? i : at, 0)
  if ((lengths[longest] ?? 0) >= contextSize) {
    throw new PromptTooLongError(`text ${longest} has ${lengths[longest]} tokens; the embedding context holds ${contextSize - 1}`, {
      details: { promptTokens: lengths[longest], contextSize, index: longest },
    })
  }
  const vectors: number[][] = []
  for (const text of texts) {
    if (signal.aborted) throw abortError(signal, 'embedding')
    const input = text === '' && bos !== null ? [bos] : text
    vectors.push(Array.from((await embedding.getEmbeddingFor(input)).vector))
  }
  return { vectors: vectors.map(v => v.length === 0 ? new Array<number>(dimensions).fill(0) : v), dimensions, promptTokens: lengths.reduce((a, b) => a + b, 0) }
}
