/**
 * A scripted test model: a tiny llama-architecture GGUF whose greedy answer to any prompt is a
 * fixed text, so that tests can drive the whole build loop to "done" through the real
 * node-llama-cpp, grammar included, without downloadable weights.
 *
 * How: the text's pieces become tokens of their own (the last ids of the vocabulary). Every
 * attention and feed-forward output matrix is zero, so each position's hidden state is its
 * token's embedding; embeddings are one-hot (one dimension per piece, one shared by every
 * other token), and the output matrix maps each dimension to the next piece's logit (the
 * last piece to end-of-sequence). Whatever the prompt, the first token is the first piece and
 * the rest follow, each with probability ~1 (logit 16 against 0). Prompt tokenization never
 * produces the pieces (no merge path reaches them). Output is in F32.
 * `after` lets a vocabulary token that the engine inserts itself (a chat wrapper's function
 * call syntax: `(` after the name) lead to a given piece: it gets a dimension of its own.
 */
import { ModelOptionsError } from '../errors.js'
import { writeGgufFile, type GgufTensor } from '../gguf/writer.js'
import { SPECIAL_TOKENS, testVocabulary } from './tokenizer.js'
import { TEST_MODEL_SHAPES, testModelMetadata, type TestModelShape } from './write.js'

export interface WriteScriptedModelOptions {
  path: string
  /** The answer, in pieces (each one token); spaces may be written as spaces. At most 48 pieces. */
  pieces: readonly string[]
  /** Vocabulary tokens (by text) after which a given piece (by index) comes, instead of the first piece; at most 8. */
  after?: Readonly<Record<string, number>>
  /** The context length the model claims; default 4096. */
  contextLength?: number
  signal?: AbortSignal
}

const LOGIT = 2 // x sqrt(64) after the RMS norm: logit 16
const MAX_PIECES = 48
const MAX_AFTER = 8
const SPACE = '\u2581'

export async function writeScriptedModel (options: WriteScriptedModelOptions): Promise<{ path: string, bytes: number, tokens: number[] }> {
  const d: TestModelShape = { ...TEST_MODEL_SHAPES.tiny, contextLength: options.contextLength ?? 4096 }
  const pieces = options.pieces.map(p => p.replaceAll(' ', SPACE))
  const vocabulary = testVocabulary(d.vocabSize - pieces.length).tokens
  const base = new Set(vocabulary)
  const after = Object.entries(options.after ?? {}).map(([text, piece]) => ({ token: vocabulary.indexOf(text.replaceAll(' ', SPACE)), text, piece }))
  const problems: string[] = []
  if (pieces.length === 0 || pieces.length > MAX_PIECES) problems.push(`pieces: 1 to ${MAX_PIECES}, got ${pieces.length}`)
  pieces.forEach((p, i) => {
    if (p === '') problems.push(`pieces[${i}] is empty`)
    if (base.has(p) || pieces.indexOf(p) !== i) problems.push(`pieces[${i}] ${JSON.stringify(p)} is not a token of its own (it is in the vocabulary, or twice in the script)`)
  })
  if (after.length > MAX_AFTER) problems.push(`after: at most ${MAX_AFTER} tokens`)
  for (const a of after) {
    if (a.token < 0) problems.push(`after: ${JSON.stringify(a.text)} is not a token of the vocabulary`)
    if (!Number.isInteger(a.piece) || a.piece < 0 || a.piece >= pieces.length) problems.push(`after[${JSON.stringify(a.text)}]: no piece ${a.piece}`)
  }
  if (problems.length > 0) throw new ModelOptionsError(`invalid scripted model: ${problems.join('; ')}`, { details: problems })

  const first = d.vocabSize - pieces.length
  const tokens = pieces.map((_, i) => first + i)
  const other = d.embeddingLength - 1 // the dimension of every token that is not a piece
  const embedding = new Float32Array(d.embeddingLength * d.vocabSize)
  for (let t = 0; t < d.vocabSize; t++) embedding[t * d.embeddingLength + (t >= first ? t - first : other)] = 1
  const output = new Float32Array(d.embeddingLength * d.vocabSize)
  output[tokens[0] * d.embeddingLength + other] = LOGIT
  after.forEach((a, i) => {
    const dimension = other - 1 - i // between the pieces' dimensions and `other`
    embedding[a.token * d.embeddingLength + other] = 0
    embedding[a.token * d.embeddingLength + dimension] = 1
    output[tokens[a.piece] * d.embeddingLength + dimension] = LOGIT
  })
  for (let i = 0; i < pieces.length; i++) {
    const next = i + 1 < pieces.length ? tokens[i + 1] : SPECIAL_TOKENS.eos.id
    output[next * d.embeddingLength + i] = LOGIT
  }

  const headDim = d.embeddingLength / d.headCount
  const tensors: GgufTensor[] = []
  const f32 = (name: string, shape: number[], values?: Float32Array): void => {
    const n = shape.reduce((a, b) => a * b, 1)
    tensors.push({ name, shape, type: 'F32', data: () => [new Uint8Array((values ?? new Float32Array(n)).buffer)] })
  }
  const ones = new Float32Array(d.embeddingLength).fill(1)
  f32('token_embd.weight', [d.embeddingLength, d.vocabSize], embedding)
  for (let i = 0; i < d.blockCount; i++) {
    f32(`blk.${i}.attn_norm.weight`, [d.embeddingLength], ones)
    f32(`blk.${i}.attn_q.weight`, [d.embeddingLength, d.headCount * headDim])
    f32(`blk.${i}.attn_k.weight`, [d.embeddingLength, d.headCountKv * headDim])
    f32(`blk.${i}.attn_v.weight`, [d.embeddingLength, d.headCountKv * headDim])
    f32(`blk.${i}.attn_output.weight`, [d.headCount * headDim, d.embeddingLength])
    f32(`blk.${i}.ffn_norm.weight`, [d.embeddingLength], ones)
    f32(`blk.${i}.ffn_gate.weight`, [d.embeddingLength, d.feedForwardLength])
    f32(`blk.${i}.ffn_up.weight`, [d.embeddingLength, d.feedForwardLength])
    f32(`blk.${i}.ffn_down.weight`, [d.feedForwardLength, d.embeddingLength])
  }
  f32('output_norm.weight', [d.embeddingLength], ones)
  f32('output.weight', [d.embeddingLength, d.vocabSize], output)
  const metadata = testModelMetadata(d, 'gryphgen-test-scripted', 0, pieces, 'gryphgen scripted test model: answers every prompt with one fixed text')
  const { bytes } = await writeGgufFile(options.path, { metadata, tensors }, { signal: options.signal })
  return { path: options.path, bytes, tokens }
}

/**
 * The pieces of a build's answer, `{"files":[{"path","content"},...]}`, for these files: one
 * piece per file (so paths must differ), as compact JSON that the files grammar accepts.
 */
export function filesAnswerPieces (files: Readonly<Record<string, string>>): string[] {
  const entries = Object.entries(files)
  return ['{"files":[', ...entries.map(([path, content], i) => JSON.stringify({ path, content }) + (i < entries.length - 1 ? ',' : '')), ']}']
}
