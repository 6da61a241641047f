/**
 * The GGUF format's vocabulary (version 3, little-endian): metadata value types, ggml tensor
 * types with their block sizes, and llama.cpp's file types. Pure constants and arithmetic;
 * the numbers follow llama.cpp's ggml.h, llama.h and gguf-py (the release node-llama-cpp bundles).
 */

export const GGUF_MAGIC = 0x46554747 // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3
export const GGUF_DEFAULT_ALIGNMENT = 32
/** ggml tensors have at most four dimensions. */
export const GGML_MAX_DIMS = 4

/** Metadata value types and their wire ids. */
export const GGUF_VALUE_TYPES = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7,
  string: 8, array: 9, uint64: 10, int64: 11, float64: 12,
} as const

/** What each scalar type holds in JavaScript: 64-bit integers are bigints. */
export interface GgufScalarValues {
  uint8: number, int8: number, uint16: number, int16: number, uint32: number, int32: number
  float32: number, float64: number, bool: boolean, string: string, uint64: bigint, int64: bigint
}
export type GgufScalarType = keyof GgufScalarValues
export type GgufScalar = { [T in GgufScalarType]: { type: T, value: GgufScalarValues[T] } }[GgufScalarType]
export type GgufArray = { [T in GgufScalarType]: { type: 'array', itemType: T, values: ReadonlyArray<GgufScalarValues[T]> } }[GgufScalarType]
/** A metadata value as written. Nested arrays are legal GGUF but no model uses them; they are not supported. */
export type GgufValue = GgufScalar | GgufArray

/** The fixed byte size of each scalar type (strings are length-prefixed instead). */
export const SCALAR_BYTES: Readonly<Record<Exclude<GgufScalarType, 'string'>, number>> = {
  uint8: 1, int8: 1, bool: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, uint64: 8, int64: 8, float64: 8,
}

export const VALUE_TYPE_BY_ID: ReadonlyMap<number, GgufScalarType | 'array'> =
  new Map(Object.entries(GGUF_VALUE_TYPES).map(([name, id]) => [id, name as GgufScalarType | 'array']))

/** ggml tensor types: wire id, elements per block, bytes per block. */
export const GGML_TYPES = {
  F32: [0, 1, 4], F16: [1, 1, 2], Q4_0: [2, 32, 18], Q4_1: [3, 32, 20], Q5_0: [6, 32, 22], Q5_1: [7, 32, 24],
  Q8_0: [8, 32, 34], Q8_1: [9, 32, 40], Q2_K: [10, 256, 84], Q3_K: [11, 256, 110], Q4_K: [12, 256, 144],
  Q5_K: [13, 256, 176], Q6_K: [14, 256, 210], Q8_K: [15, 256, 292], IQ2_XXS: [16, 256, 66], IQ2_XS: [17, 256, 74],
  IQ3_XXS: [18, 256, 98], IQ1_S: [19, 256, 50], IQ4_NL: [20, 32, 18], IQ3_S: [21, 256, 110], IQ2_S: [22, 256, 82],
  IQ4_XS: [23, 256, 136], I8: [24, 1, 1], I16: [25, 1, 2], I32: [26, 1, 4], I64: [27, 1, 8], F64: [28, 1, 8],
  IQ1_M: [29, 256, 56], BF16: [30, 1, 2], TQ1_0: [34, 256, 54], TQ2_0: [35, 256, 66], MXFP4: [39, 32, 17],
  NVFP4: [40, 64, 36], Q1_0: [41, 128, 18], Q2_0: [42, 64, 18],
} as const satisfies Record<string, readonly [id: number, blockElements: number, blockBytes: number]>
export type GgmlType = keyof typeof GGML_TYPES

export const GGML_TYPE_BY_ID: ReadonlyMap<number, GgmlType> =
  new Map(Object.entries(GGML_TYPES).map(([name, [id]]) => [id, name as GgmlType]))

/** llama.cpp's `general.file_type` values (LLAMA_FTYPE_*), by the name llama.cpp prints. */
export const LLAMA_FILE_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'F32'], [1, 'F16'], [2, 'Q4_0'], [3, 'Q4_1'], [7, 'Q8_0'], [8, 'Q5_0'], [9, 'Q5_1'], [10, 'Q2_K'],
  [11, 'Q3_K_S'], [12, 'Q3_K_M'], [13, 'Q3_K_L'], [14, 'Q4_K_S'], [15, 'Q4_K_M'], [16, 'Q5_K_S'], [17, 'Q5_K_M'],
  [18, 'Q6_K'], [19, 'IQ2_XXS'], [20, 'IQ2_XS'], [21, 'Q2_K_S'], [22, 'IQ3_XS'], [23, 'IQ3_XXS'], [24, 'IQ1_S'],
  [25, 'IQ4_NL'], [26, 'IQ3_S'], [27, 'IQ3_M'], [28, 'IQ2_S'], [29, 'IQ2_M'], [30, 'IQ4_XS'], [31, 'IQ1_M'],
  [32, 'BF16'], [36, 'TQ1_0'], [37, 'TQ2_0'], [38, 'MXFP4_MOE'], [39, 'NVFP4'], [40, 'Q1_0'], [41, 'Q2_0'],
])

/** The number of elements of a tensor of this shape. */
export function elementCount (shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1)
}

/**
 * The bytes a tensor of this type and shape (ne[0] first) takes, or undefined when ne[0] is
 * not a whole number of the type's blocks (ggml stores every row as whole blocks).
 */
export function tensorByteSize (type: GgmlType, shape: readonly number[]): number | undefined {
  const [, blockElements, blockBytes] = GGML_TYPES[type]
  const rowElements = shape[0] ?? 1
  if (rowElements % blockElements !== 0) return undefined
  return (elementCount(shape) / blockElements) * blockBytes
}

/** `n` rounded up to a multiple of `alignment`. */
export function alignUp (n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment
}
