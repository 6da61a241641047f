/**
 * The body of a documents upload, `{ documents: [{ path, text }] }`, read from its raw bytes
 * and checked against one schema (the API documents the same schema). Runs in the indexing
 * worker, so a large body is never parsed on the node's main thread. A body that is not UTF-8
 * JSON of that shape is an InvalidDocumentsError listing the problems. Pure.
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidDocumentsError } from './errors.js'

export const DocumentsSchema = Type.Object({
  documents: Type.Array(Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096 }), text: Type.String() }, { additionalProperties: false }), { minItems: 1, maxItems: 10_000 }),
}, { additionalProperties: false })
export type Documents = Type.Static<typeof DocumentsSchema>

const MAX_PROBLEMS = 10
const checkDocuments = Compile(DocumentsSchema)

export function parseDocumentsBody (bytes: Uint8Array): Documents['documents'] {
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new InvalidDocumentsError(`the documents body is not UTF-8 JSON: ${(err as Error).message}`, { details: ['body: not UTF-8 JSON'] })
  }
  if (!checkDocuments.Check(parsed)) {
    const problems = checkDocuments.Errors(parsed).slice(0, MAX_PROBLEMS).map(e => `body${e.instancePath.replaceAll('/', '.')} ${e.message}`)
    throw new InvalidDocumentsError(`invalid documents body: ${problems[0] ?? 'not { documents: [{ path, text }] }'}`, { details: problems })
  }
  return parsed.documents
}
