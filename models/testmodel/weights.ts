/**
 * Random tensor data, generated straight in the file's encoding: a quantized block is a
 * scale plus random quants (no float array, no quantizer), so even a 1B-parameter model is
 * written at disk speed. Values are uniform in ±sqrt(3 / row length), which keeps each matrix
 * product's output near unit variance; norm weights are ones. Chunks are whole rows of about
 * 1 MiB, so memory stays small whatever the tensor's size.
 */
import { GGML_TYPES, elementCount } from '../gguf/types.js'
import { float16Bits, randomStream } from './random.js'

export type WeightType = 'F32' | 'F16' | 'Q8_0' | 'Q4_0'

const CHUNK_BYTES = 1 << 20

/** A tensor of ones (F32): norm weights. */
export function * onesF32 (elements: number): Generator<Uint8Array> {
  const values = new Float32Array(elements).fill(1)
  yield new Uint8Array(values.buffer)
}

/** Seeded random data for a tensor of `type` and `shape` (ne[0] first); stream `stream` of `seed`. */
export function * randomTensor (type: WeightType, shape: readonly number[], seed: number, stream: number): Generator<Uint8Array> {
  const next = randomStream(seed, stream)
  const [, blockElements, blockBytes] = GGML_TYPES[type]
  const rowElements = shape[0]
  const rowBytes = (rowElements / blockElements) * blockBytes
  const amplitude = Math.sqrt(3 / rowElements)
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes))
  let rowsLeft = elementCount(shape) / rowElements
  while (rowsLeft > 0) {
    const rows = Math.min(rowsLeft, rowsPerChunk)
    const chunk = new Uint8Array(rows * rowBytes)
    fill(type, chunk, amplitude, next)
    yield chunk
    rowsLeft -= rows
  }
}

function fill (type: WeightType, chunk: Uint8Array, amplitude: number, next: () => number): void {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  switch (type) {
    case 'F32':
      for (let at = 0; at < chunk.length; at += 4) view.setFloat32(at, uniform(next, amplitude), true)
      return
    case 'F16':
      for (let at = 0; at < chunk.length; at += 2) view.setUint16(at, float16Bits(uniform(next, amplitude)), true)
      return
    case 'Q8_0': // f16 scale d, then 32 int8 quants: value = d * q, q uniform in [-128, 127]
      return fillBlocks(chunk, view, GGML_TYPES.Q8_0[2], float16Bits(amplitude / 128), next)
    case 'Q4_0': // f16 scale d, then 16 bytes of nibbles: value = d * (nibble - 8)
      return fillBlocks(chunk, view, GGML_TYPES.Q4_0[2], float16Bits(amplitude / 8), next)
    default: throw new Error(`no generator for ${type satisfies never as string}`)
  }
}

function fillBlocks (chunk: Uint8Array, view: DataView, blockBytes: number, scaleBits: number, next: () => number): void {
  for (let block = 0; block < chunk.length; block += blockBytes) {
    view.setUint16(block, scaleBits, true)
    for (let at = block + 2; at < block + blockBytes; at += 4) {
      const r = next()
      chunk[at] = r
      chunk[at + 1] = r >>> 8
      chunk[at + 2] = r >>> 16
      chunk[at + 3] = r >>> 24
    }
  }
}

function uniform (next: () => number, amplitude: number): number {
  return (next() / 2 ** 32 * 2 - 1) * amplitude
}
