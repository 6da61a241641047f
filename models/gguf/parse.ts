/**
 * Parses a GGUF header from the first bytes of a file (pure). It never trusts a count: each is
 * checked against a limit no real model reaches before anything is allocated for it, and every
 * read is bounds-checked. When the bytes given end inside the header, it throws
 * NeedMoreBytes (with `complete: false`) so the caller can read further, or
 * InvalidModelFileError `truncated` when they are the whole file.
 * Arrays are skipped and kept as their item type and length only: a vocabulary of 150k tokens
 * costs no memory here.
 */
import { InvalidModelFileError, type InvalidModelFileReason } from '../errors.js'
import {
  GGML_MAX_DIMS, GGML_TYPE_BY_ID, GGUF_MAGIC, SCALAR_BYTES, VALUE_TYPE_BY_ID,
  type GgmlType, type GgufScalar, type GgufScalarType,
} from './types.js'

/** Counts past these are corrupt or hostile files, not models. */
export const GGUF_LIMITS = { tensors: 1 << 16, metadataKeys: 1 << 16, arrayItems: 1 << 24 } as const

export type GgufReadValue = GgufScalar | { type: 'array', itemType: GgufScalarType, length: number }

export interface GgufTensorEntry { name: string, shape: number[], type: GgmlType, offset: number }

export interface ParsedGgufHeader {
  version: number
  metadata: Map<string, GgufReadValue>
  tensors: GgufTensorEntry[]
  /** Where the header ends, before the padding to the alignment. */
  headerBytes: number
}

/** The bytes given end inside the header; `complete: false` was passed, so more can be read. */
export class NeedMoreBytes extends Error {}

class Cursor {
  position = 0
  readonly #view: DataView
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true })
  constructor (readonly bytes: Uint8Array, readonly complete: boolean, readonly source: string) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  fail (reason: InvalidModelFileReason, message: string): never {
    throw new InvalidModelFileError(`${this.source}: ${message}`, { reason, path: this.source })
  }

  take (n: number): number {
    const at = this.position
    if (at + n > this.bytes.length) {
      if (!this.complete) throw new NeedMoreBytes()
      this.fail('truncated', `the file ends inside its GGUF header (at byte ${this.bytes.length})`)
    }
    this.position += n
    return at
  }

  u32 (): number { return this.#view.getUint32(this.take(4), true) }
  count (what: string, limit: number): number {
    const n = this.#view.getBigUint64(this.take(8), true)
    if (n > BigInt(limit)) this.fail('absurd-count', `${what} is ${n}, more than ${limit}`)
    return Number(n)
  }

  string (what: string): string {
    const length = this.count(`the length of ${what}`, Number.MAX_SAFE_INTEGER)
    const at = this.take(length)
    try {
      return this.#utf8.decode(this.bytes.subarray(at, at + length))
    } catch {
      return this.fail('malformed', `${what} is not valid UTF-8`)
    }
  }

  scalar (type: GgufScalarType, what: string): GgufScalar {
    if (type === 'string') return { type, value: this.string(what) }
    const v = this.#view
    const at = this.take(SCALAR_BYTES[type])
    switch (type) {
      case 'uint8': return { type, value: v.getUint8(at) }
      case 'int8': return { type, value: v.getInt8(at) }
      case 'bool': return { type, value: v.getUint8(at) !== 0 }
      case 'uint16': return { type, value: v.getUint16(at, true) }
      case 'int16': return { type, value: v.getInt16(at, true) }
      case 'uint32': return { type, value: v.getUint32(at, true) }
      case 'int32': return { type, value: v.getInt32(at, true) }
      case 'float32': return { type, value: v.getFloat32(at, true) }
      case 'float64': return { type, value: v.getFloat64(at, true) }
      case 'uint64': return { type, value: v.getBigUint64(at, true) }
      case 'int64': return { type, value: v.getBigInt64(at, true) }
      default: throw new Error(`unknown scalar type ${type satisfies never as string}`)
    }
  }

  valueType (what: string): GgufScalarType | 'array' {
    const id = this.u32()
    return VALUE_TYPE_BY_ID.get(id) ?? this.fail('malformed', `${what} has unknown value type ${id}`)
  }
}

/** Parses the header in `bytes`, the first bytes of the file `source` (used in messages only). */
export function parseGgufHeader (bytes: Uint8Array, options: { complete: boolean, source: string }): ParsedGgufHeader {
  const c: Cursor = new Cursor(bytes, options.complete, options.source)
  const start = bytes.subarray(0, 4)
  if (!Buffer.from('GGUF').subarray(0, start.length).equals(start)) c.fail('not-gguf', 'not a GGUF file (wrong magic)')
  if (c.u32() !== GGUF_MAGIC) c.fail('not-gguf', 'not a GGUF file (wrong magic)')
  const version = c.u32()
  if (version !== 2 && version !== 3) c.fail('unsupported-version', `GGUF version ${version} is not supported (only 2 and 3 are)`)
  const tensorCount = c.count('the tensor count', GGUF_LIMITS.tensors)
  const keyCount = c.count('the metadata key count', GGUF_LIMITS.metadataKeys)
  const metadata = new Map<string, GgufReadValue>()
  for (let i = 0; i < keyCount; i++) {
    const key = c.string(`metadata key ${i}`)
    if (metadata.has(key)) c.fail('malformed', `metadata key ${key} appears twice`)
    const type = c.valueType(key)
    if (type !== 'array') {
      metadata.set(key, c.scalar(type, key))
      continue
    }
    const itemType = c.valueType(`${key}'s items`)
    if (itemType === 'array') c.fail('malformed', `${key} is an array of arrays`)
    const length = c.count(`${key}'s length`, GGUF_LIMITS.arrayItems)
    if (itemType === 'string') for (let j = 0; j < length; j++) c.take(c.count(`a string in ${key}`, Number.MAX_SAFE_INTEGER))
    else c.take(length * SCALAR_BYTES[itemType])
    metadata.set(key, { type: 'array', itemType, length })
  }
  const tensors: GgufTensorEntry[] = []
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`tensor ${i}'s name`)
    const dims = c.u32()
    if (dims < 1 || dims > GGML_MAX_DIMS) c.fail('absurd-count', `tensor ${name} has ${dims} dimensions`)
    const shape: number[] = []
    for (let d = 0; d < dims; d++) shape.push(c.count(`a dimension of tensor ${name}`, Number.MAX_SAFE_INTEGER))
    if (shape.reduce((n, d) => n * d, 1) > Number.MAX_SAFE_INTEGER) c.fail('absurd-count', `tensor ${name} has too many elements`)
    const typeId = c.u32()
    const type = GGML_TYPE_BY_ID.get(typeId) ?? c.fail('malformed', `tensor ${name} has unknown ggml type ${typeId}`)
    const offset = c.count(`tensor ${name}'s offset`, Number.MAX_SAFE_INTEGER)
    tensors.push({ name, shape, type, offset })
  }
  return { version, metadata, tensors, headerBytes: c.position }
}
