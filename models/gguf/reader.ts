/**
 * Validates a GGUF model file by its header alone: it reads from the start in growing chunks,
 * only as far as the header goes and never past `maxHeaderBytes` (64 MiB by default; real
 * headers, vocabularies included, are well under that), and never reads tensor data. It then
 * checks that the tensors' offsets follow one another as llama.cpp requires and that the file is
 * long enough to hold all their data, so a file cut anywhere is caught without reading it.
 * Every failure is an InvalidModelFileError whose `reason` says what is wrong.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { InvalidModelFileError, checkAborted } from '../errors.js'
import { NeedMoreBytes, parseGgufHeader, type GgufReadValue, type GgufTensorEntry, type ParsedGgufHeader } from './parse.js'
import { GGUF_DEFAULT_ALIGNMENT, LLAMA_FILE_TYPES, alignUp, elementCount, tensorByteSize, type GgmlType } from './types.js'

export interface GgufHeader {
  path: string
  fileBytes: number
  version: number
  /** `general.architecture`, for example `llama`. */
  architecture: string
  name?: string
  /** `<architecture>.context_length`: the context the model was trained for. */
  contextLength?: number
  /** `general.file_type` (llama.cpp's LLAMA_FTYPE). */
  fileType?: number
  /** The file type's name (`Q4_0`, `Q4_K_M`, `F16`...), else the ggml type holding the most bytes. */
  quantization: string
  /** `<architecture>.vocab_size`, else the length of `tokenizer.ggml.tokens`. */
  vocabSize?: number
  parameterCount: number
  alignment: number
  /** Where tensor data starts, and how many bytes of it the tensors need (padded). */
  dataOffset: number
  dataBytes: number
  metadata: ReadonlyMap<string, GgufReadValue>
  tensors: readonly GgufTensorEntry[]
}

export interface ReadGgufHeaderOptions { signal?: AbortSignal, maxHeaderBytes?: number }

const FIRST_READ_BYTES = 1 << 20

/** Reads and validates the header of the GGUF file at `path`. */
export async function readGgufHeader (path: string, options: ReadGgufHeaderOptions = {}): Promise<GgufHeader> {
  const maxHeaderBytes = options.maxHeaderBytes ?? 64 << 20
  checkAborted(options.signal, 'reading a GGUF header')
  let file: FileHandle
  try {
    file = await open(path, 'r')
  } catch (err) {
    throw new InvalidModelFileError(`${path}: cannot open the model file`, { reason: 'unreadable', path, cause: err })
  }
  try {
    const stats = await file.stat()
    const size = stats.size
    if (!stats.isFile()) throw new InvalidModelFileError(`${path}: not a regular file`, { reason: 'unreadable', path })
    let want = Math.min(size, maxHeaderBytes, FIRST_READ_BYTES)
    for (;;) {
      checkAborted(options.signal, 'reading a GGUF header')
      const bytes = await readPrefix(file, want, path)
      try {
        return summarize(parseGgufHeader(bytes, { complete: want === size, source: path }), path, size)
      } catch (err) {
        if (!(err instanceof NeedMoreBytes)) throw err
        if (want >= maxHeaderBytes) throw new InvalidModelFileError(`${path}: the GGUF header is longer than ${maxHeaderBytes} bytes`, { reason: 'header-too-large', path })
        want = Math.min(size, maxHeaderBytes, want * 4)
      }
    }
  } finally {
    await file.close().catch(() => {})
  }
}

async function readPrefix (file: FileHandle, length: number, path: string): Promise<Uint8Array> {
  const bytes = Buffer.alloc(length)
  let filled = 0
  try {
    while (filled < length) {
      const { bytesRead } = await file.read(bytes, filled, length - filled, filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
  } catch (err) {
    throw new InvalidModelFileError(`${path}: cannot read the model file`, { reason: 'unreadable', path, cause: err })
  }
  return bytes.subarray(0, filled)
}

function summarize (parsed: ParsedGgufHeader, path: string, fileBytes: number): GgufHeader {
  const { metadata, tensors } = parsed
  const fail = (reason: 'malformed' | 'truncated', message: string): never => {
    throw new InvalidModelFileError(`${path}: ${message}`, { reason, path })
  }
  const alignment = metadataNumber(metadata, 'general.alignment') ?? GGUF_DEFAULT_ALIGNMENT
  if (alignment < 1 || (alignment & (alignment - 1)) !== 0) fail('malformed', `general.alignment ${alignment} is not a power of two`)
  const architecture = metadataString(metadata, 'general.architecture') ?? fail('malformed', 'general.architecture is missing')
  const dataOffset = alignUp(parsed.headerBytes, alignment)
  const bytesByType = new Map<GgmlType, number>()
  let dataBytes = 0
  for (const t of tensors) {
    const bytes = tensorByteSize(t.type, t.shape) ?? fail('malformed', `tensor ${t.name}'s rows are not whole ${t.type} blocks`)
    if (t.offset !== dataBytes) fail('malformed', `tensor ${t.name} is at offset ${t.offset}, expected ${dataBytes}`)
    dataBytes += alignUp(bytes, alignment)
    bytesByType.set(t.type, (bytesByType.get(t.type) ?? 0) + bytes)
  }
  if (dataOffset + dataBytes > fileBytes) {
    fail('truncated', `the file has ${fileBytes} bytes, its tensors need ${dataOffset + dataBytes}`)
  }
  const fileType = metadataNumber(metadata, 'general.file_type')
  const dominant = [...bytesByType].sort((a, b) => b[1] - a[1])[0]?.[0]
  const tokens = metadata.get('tokenizer.ggml.tokens')
  return {
    path,
    fileBytes,
    version: parsed.version,
    architecture,
    name: metadataString(metadata, 'general.name'),
    contextLength: metadataNumber(metadata, `${architecture}.context_length`),
    fileType,
    quantization: (fileType === undefined ? undefined : LLAMA_FILE_TYPES.get(fileType)) ?? dominant ?? 'unknown',
    vocabSize: metadataNumber(metadata, `${architecture}.vocab_size`) ?? (tokens?.type === 'array' ? tokens.length : undefined),
    parameterCount: tensors.reduce((n, t) => n + elementCount(t.shape), 0),
    alignment,
    dataOffset,
    dataBytes,
    metadata,
    tensors,
  }
}

/** A numeric metadata value as a number (64-bit integers beyond 2^53 lose precision), or undefined. */
export function metadataNumber (metadata: ReadonlyMap<string, GgufReadValue>, key: string): number | undefined {
  const v = metadata.get(key)
  if (v === undefined || v.type === 'array' || v.type === 'string' || v.type === 'bool') return undefined
  return Number(v.value)
}

/** A string metadata value, or undefined. */
export function metadataString (metadata: ReadonlyMap<string, GgufReadValue>, key: string): string | undefined {
  const v = metadata.get(key)
  return v?.type === 'string' ? v.value : undefined
}
