/** GGUF files: a streaming writer and a header-only reader that validates a model file. */
export { writeGgufFile, type GgufTensor, type GgufContents } from './writer.js'
export { encodeGgufHeader, type GgufTensorInfo, type GgufLayout } from './encode.js'
export { readGgufHeader, metadataNumber, metadataString, type GgufHeader, type ReadGgufHeaderOptions } from './reader.js'
export { GGUF_LIMITS, type GgufReadValue, type GgufTensorEntry } from './parse.js'
export {
  GGUF_VERSION, GGUF_DEFAULT_ALIGNMENT, GGML_TYPES, LLAMA_FILE_TYPES, tensorByteSize,
  type GgmlType, type GgufValue, type GgufScalar, type GgufArray, type GgufScalarType,
} from './types.js'
