/**
 * The GGUF header as bytes (pure): magic, version, counts, metadata key/values, tensor infos,
 * then zero padding up to the alignment, where the tensor data begins. Tensor offsets are the
 * running total of each tensor's size padded to the alignment, as llama.cpp requires.
 * Invalid input (a row that is not whole blocks, too many dimensions, a bad alignment, an
 * integer out of its type's range) throws ModelOptionsError listing every problem.
 */
import { ModelOptionsError } from '../errors.js'
import {
  GGML_MAX_DIMS, GGML_TYPES, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VALUE_TYPES, GGUF_VERSION, SCALAR_BYTES,
  alignUp, tensorByteSize, type GgmlType, type GgufScalarType, type GgufValue,
} from './types.js'

/** A tensor as the header describes it: `shape` is ne[0] first (the row length first). */
export interface GgufTensorInfo { name: string, shape: readonly number[], type: GgmlType }

export interface GgufLayout {
  /** The header, padded with zeros to the alignment: tensor data starts right after it. */
  header: Uint8Array
  /** Each tensor's unpadded data size and its offset from the start of the data section. */
  tensors: ReadonlyArray<{ name: string, bytes: number, offset: number }>
  /** The data section's size: every tensor padded to the alignment. */
  dataBytes: number
  alignment: number
}

class ByteBuilder {
  #buffer = Buffer.alloc(1 << 16)
  length = 0
  #reserve (n: number): number {
    if (this.length + n > this.#buffer.length) {
      const bigger = Buffer.alloc(Math.max(this.#buffer.length * 2, this.length + n))
      this.#buffer.copy(bigger, 0, 0, this.length)
      this.#buffer = bigger
    }
    const at = this.length
    this.length += n
    return at
  }

  // Reserve before touching #buffer: reserving may replace it.
  u32 (v: number): void { const at = this.#reserve(4); this.#buffer.writeUInt32LE(v, at) }
  u64 (v: number | bigint): void { const at = this.#reserve(8); this.#buffer.writeBigUInt64LE(BigInt(v), at) }
  string (s: string): void {
    const bytes = Buffer.from(s, 'utf8')
    this.u64(bytes.length)
    const at = this.#reserve(bytes.length)
    bytes.copy(this.#buffer, at)
  }

  scalar (type: Exclude<GgufScalarType, 'string'>, v: number | bigint | boolean): void {
    const at = this.#reserve(SCALAR_BYTES[type])
    const b = this.#buffer
    switch (type) {
      case 'uint8': b.writeUInt8(v as number, at); break
      case 'int8': b.writeInt8(v as number, at); break
      case 'bool': b.writeUInt8(v === true ? 1 : 0, at); break
      case 'uint16': b.writeUInt16LE(v as number, at); break
      case 'int16': b.writeInt16LE(v as number, at); break
      case 'uint32': b.writeUInt32LE(v as number, at); break
      case 'int32': b.writeInt32LE(v as number, at); break
      case 'float32': b.writeFloatLE(v as number, at); break
      case 'float64': b.writeDoubleLE(v as number, at); break
      case 'uint64': b.writeBigUInt64LE(v as bigint, at); break
      case 'int64': b.writeBigInt64LE(v as bigint, at); break
      default: throw new Error(`unknown scalar type ${type satisfies never as string}`)
    }
  }

  item (type: GgufScalarType, v: string | number | bigint | boolean): void {
    if (type === 'string') this.string(v as string)
    else this.scalar(type, v as number | bigint | boolean)
  }

  bytes (): Uint8Array { return this.#buffer.subarray(0, this.length) }
}

/** Lays out a GGUF file: the header bytes and where each tensor's data goes. */
export function encodeGgufHeader (
  metadata: ReadonlyArray<readonly [key: string, value: GgufValue]>,
  tensors: readonly GgufTensorInfo[],
): GgufLayout {
  const problems: string[] = []
  const alignmentEntry = metadata.find(([key]) => key === 'general.alignment')?.[1]
  const alignment = alignmentEntry === undefined ? GGUF_DEFAULT_ALIGNMENT : alignmentEntry.type === 'uint32' ? alignmentEntry.value : -1
  if (alignment <= 0 || (alignment & (alignment - 1)) !== 0) problems.push('general.alignment must be a uint32 power of two')
  const keys = new Set<string>()
  for (const [key] of metadata) {
    if (keys.has(key)) problems.push(`metadata key ${key} appears twice`)
    keys.add(key)
  }
  const placed: Array<{ name: string, bytes: number, offset: number }> = []
  let dataBytes = 0
  for (const t of tensors) {
    const bytes = tensorByteSize(t.type, t.shape)
    if (t.shape.length < 1 || t.shape.length > GGML_MAX_DIMS || t.shape.some(d => !Number.isSafeInteger(d) || d < 1)) {
      problems.push(`tensor ${t.name}: shape [${t.shape.join(', ')}] must be 1 to ${GGML_MAX_DIMS} positive integers`)
    } else if (bytes === undefined) {
      problems.push(`tensor ${t.name}: a ${t.type} row needs a multiple of ${GGML_TYPES[t.type][1]} elements, not ${t.shape[0]}`)
    } else {
      placed.push({ name: t.name, bytes, offset: dataBytes })
      dataBytes += alignUp(bytes, Math.max(1, alignment))
    }
  }
  if (problems.length > 0) throw new ModelOptionsError(`invalid GGUF layout: ${problems.join('; ')}`, { details: problems })

  const out = new ByteBuilder()
  out.u32(GGUF_MAGIC)
  out.u32(GGUF_VERSION)
  out.u64(tensors.length)
  out.u64(metadata.length)
  for (const [key, value] of metadata) {
    out.string(key)
    out.u32(GGUF_VALUE_TYPES[value.type])
    try {
      if (value.type === 'array') {
        out.u32(GGUF_VALUE_TYPES[value.itemType])
        out.u64(value.values.length)
        for (const v of value.values) out.item(value.itemType, v)
      } else {
        out.item(value.type, value.value)
      }
    } catch (err) {
      throw new ModelOptionsError(`invalid GGUF metadata value for ${key}`, { cause: err, details: [`${key}: ${String(err)}`] })
    }
  }
  tensors.forEach((t, i) => {
    out.string(t.name)
    out.u32(t.shape.length)
    for (const d of t.shape) out.u64(d)
    out.u32(GGML_TYPES[t.type][0])
    out.u64(placed[i].offset)
  })
  const header = new Uint8Array(alignUp(out.length, alignment))
  header.set(out.bytes())
  return { header, tensors: placed, dataBytes, alignment }
}
