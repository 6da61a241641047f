/**
 * Test models: GGUF files of the llama architecture with seeded random weights, a byte-fallback
 * SentencePiece vocabulary and a ChatML template. They load and run in llama.cpp like any model,
 * but their output is gibberish by design: they exist so that tests, demos and throughput
 * benchmarks run without downloading weights (speed does not depend on the weights' values).
 * Real use means adding or pulling a real model.
 * The same options write a byte-identical file. `tiny` loads and generates in milliseconds;
 * `1b` has TinyLlama-1.1B's shape (about 620 MB in Q4_0): for benchmarks only, never in tests.
 */
import { ModelOptionsError } from '../errors.js'
import { writeGgufFile, type GgufTensor } from '../gguf/writer.js'
import type { GgufValue } from '../gguf/types.js'
import { tokenizerMetadata } from './tokenizer.js'
import { onesF32, randomTensor, type WeightType } from './weights.js'

export interface TestModelShape {
  vocabSize: number, contextLength: number, embeddingLength: number, blockCount: number
  feedForwardLength: number, headCount: number, headCountKv: number
}

export const TEST_MODEL_SHAPES = {
  tiny: { vocabSize: 512, contextLength: 1024, embeddingLength: 64, blockCount: 2, feedForwardLength: 128, headCount: 4, headCountKv: 2 },
  '1b': { vocabSize: 32_000, contextLength: 2048, embeddingLength: 2048, blockCount: 22, feedForwardLength: 5632, headCount: 32, headCountKv: 4 },
} as const satisfies Record<string, TestModelShape>
export type TestModelShapeName = keyof typeof TEST_MODEL_SHAPES

/** Weight encodings, with llama.cpp's `general.file_type` for each. */
const QUANTS = { q4_0: { type: 'Q4_0', fileType: 2 }, q8_0: { type: 'Q8_0', fileType: 7 }, f16: { type: 'F16', fileType: 1 } } as const
export type TestModelQuant = keyof typeof QUANTS

export interface WriteTestModelOptions {
  path: string
  /** Default `tiny`. */
  shape?: TestModelShapeName
  /** Any non-negative safe integer; default 1. */
  seed?: number
  /** Default `q4_0`. Norm weights are F32 whatever the choice. */
  quant?: TestModelQuant
  /** The context length the model claims to be trained for; default the shape's (tiny 1024, 1b 2048). */
  contextLength?: number
  /** Fill-in-the-middle tokens (FIM_TOKENS) in the vocabulary and their ids in the metadata; default false. */
  fim?: boolean
  signal?: AbortSignal
}

export interface TestModelInfo {
  path: string, bytes: number, shape: TestModelShapeName, seed: number, quant: TestModelQuant
  name: string, dimensions: TestModelShape, parameterCount: number
}

/** Writes a test model (see the module header); the file appears only once complete. */
export async function writeTestModel (options: WriteTestModelOptions): Promise<TestModelInfo> {
  const { path, shape = 'tiny', seed = 1, quant = 'q4_0', signal } = options
  const problems: string[] = []
  if (typeof path !== 'string' || path === '') problems.push('path must be a file path')
  if (!Object.hasOwn(TEST_MODEL_SHAPES, shape)) problems.push(`shape must be one of ${Object.keys(TEST_MODEL_SHAPES).join(', ')}`)
  if (!Number.isSafeInteger(seed) || seed < 0) problems.push('seed must be a non-negative integer')
  if (!Object.hasOwn(QUANTS, quant)) problems.push(`quant must be one of ${Object.keys(QUANTS).join(', ')}`)
  const { contextLength } = options
  if (contextLength !== undefined && (!Number.isInteger(contextLength) || contextLength < 64 || contextLength > 1_048_576)) problems.push('contextLength must be an integer from 64 to 1048576')
  if (problems.length > 0) throw new ModelOptionsError(`invalid test model options: ${problems.join('; ')}`, { details: problems })

  const dims: TestModelShape = { ...TEST_MODEL_SHAPES[shape], ...(contextLength === undefined ? {} : { contextLength }) }
  const name = `gryphgen-test-${shape}-${quant}-seed${seed}`
  const tensors = testModelTensors(dims, QUANTS[quant].type, seed)
  const metadata = testModelMetadata(dims, name, QUANTS[quant].fileType, [], undefined, options.fim === true)
  const { bytes } = await writeGgufFile(path, { metadata, tensors }, { signal })
  const parameterCount = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0)
  return { path, bytes, shape, seed, quant, name, dimensions: dims, parameterCount }
}

export function testModelMetadata (d: TestModelShape, name: string, fileType: number, extraTokens: readonly string[] = [], description = 'gryphgen test model: seeded random weights, gibberish output by design', fim = false): Array<[string, GgufValue]> {
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value })
  const f32 = (value: number): GgufValue => ({ type: 'float32', value })
  return [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: name }],
    ['general.description', { type: 'string', value: description }],
    ['general.alignment', u32(32)],
    ['general.file_type', u32(fileType)],
    ['general.quantization_version', u32(2)],
    ['llama.vocab_size', u32(d.vocabSize)],
    ['llama.context_length', u32(d.contextLength)],
    ['llama.embedding_length', u32(d.embeddingLength)],
    ['llama.block_count', u32(d.blockCount)],
    ['llama.feed_forward_length', u32(d.feedForwardLength)],
    ['llama.attention.head_count', u32(d.headCount)],
    ['llama.attention.head_count_kv', u32(d.headCountKv)],
    ['llama.rope.dimension_count', u32(d.embeddingLength / d.headCount)],
    ['llama.rope.freq_base', f32(10_000)],
    ['llama.attention.layer_norm_rms_epsilon', f32(1e-5)],
    ...tokenizerMetadata(d.vocabSize, extraTokens, fim),
  ]
}

/** The llama architecture's tensors, shapes ne[0] first; each matrix gets its own random stream. */
function testModelTensors (d: TestModelShape, type: WeightType, seed: number): GgufTensor[] {
  const headDim = d.embeddingLength / d.headCount
  const tensors: GgufTensor[] = []
  const matrix = (name: string, shape: [number, number]): void => {
    const stream = tensors.length
    tensors.push({ name, shape, type, data: () => randomTensor(type, shape, seed, stream) })
  }
  const norm = (name: string): void => {
    tensors.push({ name, shape: [d.embeddingLength], type: 'F32', data: () => onesF32(d.embeddingLength) })
  }
  matrix('token_embd.weight', [d.embeddingLength, d.vocabSize])
  for (let i = 0; i < d.blockCount; i++) {
    norm(`blk.${i}.attn_norm.weight`)
    matrix(`blk.${i}.attn_q.weight`, [d.embeddingLength, d.headCount * headDim])
    matrix(`blk.${i}.attn_k.weight`, [d.embeddingLength, d.headCountKv * headDim])
    matrix(`blk.${i}.attn_v.weight`, [d.embeddingLength, d.headCountKv * headDim])
    matrix(`blk.${i}.attn_output.weight`, [d.headCount * headDim, d.embeddingLength])
    norm(`blk.${i}.ffn_norm.weight`)
    matrix(`blk.${i}.ffn_gate.weight`, [d.embeddingLength, d.feedForwardLength])
    matrix(`blk.${i}.ffn_up.weight`, [d.embeddingLength, d.feedForwardLength])
    matrix(`blk.${i}.ffn_down.weight`, [d.feedForwardLength, d.embeddingLength])
  }
  norm('output_norm.weight')
  matrix('output.weight', [d.embeddingLength, d.vocabSize])
  return tensors
}
