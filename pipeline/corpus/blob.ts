/**
 * A corpus as one blob, to share with peers: compact JSON `{ format, dims, embedModel?, chunks }`, each
 * chunk with its text, lines and (hybrid corpora) its unit vector as base64 float32. Postings
 * are not carried: the importer rebuilds them with the same tokenizer, so a round trip ranks
 * the same. Validated on receipt: a damaged or foreign blob is an InvalidCorpusError listing
 * the problems.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import type { Chunk } from './chunk.js'
import { InvalidCorpusError } from './errors.js'

export const CORPUS_BLOB_FORMAT = 'gryphgen-corpus/1'
const MAX_DIMS = 16_384
const MAX_PROBLEMS = 10
const base64Length = (bytes: number): number => Math.ceil(bytes / 3) * 4

const BlobChunkSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 4096 }),
  source: Type.String({ minLength: 1, maxLength: 4096 }),
  startLine: Type.Integer({ minimum: 1 }),
  endLine: Type.Integer({ minimum: 1 }),
  text: Type.String({ minLength: 1, maxLength: 1_048_576 }),
  vector: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: base64Length(MAX_DIMS * 4) })),
}, { additionalProperties: false })

const CorpusBlobSchema = Type.Object({
  format: Type.Literal(CORPUS_BLOB_FORMAT),
  dims: Type.Union([Type.Integer({ minimum: 1, maximum: MAX_DIMS }), Type.Null()]),
  /** The model that made the vectors, when known. */
  embedModel: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  chunks: Type.Array(BlobChunkSchema, { maxItems: 2_000_000 }),
}, { additionalProperties: false })

export type BlobChunk = Type.Static<typeof BlobChunkSchema>
export type CorpusBlob = Type.Static<typeof CorpusBlobSchema>
const checkBlob = Compile(CorpusBlobSchema)

export function encodeCorpusBlob (dims: number | null, embedModel: string | undefined, chunks: ReadonlyArray<Chunk & { vector?: string }>): Uint8Array {
  const blob: CorpusBlob = {
    format: CORPUS_BLOB_FORMAT,
    dims,
    ...(embedModel === undefined || dims === null ? {} : { embedModel }),
    chunks: chunks.map(c => ({ id: c.id, source: c.source, startLine: c.startLine, endLine: c.endLine, text: c.text, ...(c.vector === undefined ? {} : { vector: c.vector }) })),
  }
  return new TextEncoder().encode(JSON.stringify(blob))
}

export function decodeCorpusBlob (bytes: Uint8Array): CorpusBlob {
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new InvalidCorpusError('not a corpus blob: not UTF-8 JSON', { cause: err, details: ['not UTF-8 JSON'] })
  }
  if (!checkBlob.Check(parsed)) {
    const problems = checkBlob.Errors(parsed).slice(0, MAX_PROBLEMS).map(e => `${e.instancePath || '/'} ${e.message}`)
    throw new InvalidCorpusError(`not a ${CORPUS_BLOB_FORMAT} blob: ${problems[0] ?? 'invalid'}`, { details: problems })
  }
  const problems = contentProblems(parsed)
  if (problems.length > 0) throw new InvalidCorpusError(`damaged corpus blob: ${problems[0]}`, { details: problems })
  return parsed
}

/** What the schema cannot say: line order, unique ids, text that is not blank, vectors of the stated dimension. */
function contentProblems (blob: CorpusBlob): string[] {
  const problems: string[] = []
  const ids = new Set<string>()
  const vectorLength = blob.dims === null ? undefined : base64Length(blob.dims * 4)
  blob.chunks.forEach((c, i) => {
    if (problems.length >= MAX_PROBLEMS) return
    if (c.endLine < c.startLine) problems.push(`/chunks/${i}: endLine before startLine`)
    if (ids.has(c.id)) problems.push(`/chunks/${i}: id ${JSON.stringify(c.id)} twice`)
    ids.add(c.id)
    if (c.text.trim() === '') problems.push(`/chunks/${i}: blank text`)
    if (c.vector !== undefined && c.vector.length !== vectorLength) problems.push(blob.dims === null ? `/chunks/${i}: a vector, but dims is null` : `/chunks/${i}: vector is not ${blob.dims} float32 values`)
  })
  return problems
}
