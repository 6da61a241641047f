/**
 * The indexing worker thread (started by indexer.ts), one request at a time:
 *  - `prepare`: reads an upload's raw body, checks it (documents.ts) and chunks and tokenizes it
 *    (prepare.ts), so neither the parse nor the big strings touch the node's main thread or heap;
 *  - `merge`: merges an upload's postings with the stored ones (merge.ts), so the per-term work
 *    and garbage of a write stay off the main thread too.
 * Answers `{ id, result }` with the result's buffers transferred, or `{ id, error }` with the
 * error's name, message and details.
 */
import { parentPort } from 'node:worker_threads'
import type { ChunkLimits } from './chunk.js'
import { parseDocumentsBody } from './documents.js'
import { mergeStoredPostings, type MergeRequest } from './merge.js'
import { prepareDocuments, transferablesOf } from './prepare.js'

export type WorkerRequest =
  | { id: number, kind: 'prepare', body: Uint8Array, limits: ChunkLimits }
  | { id: number, kind: 'merge', merge: MergeRequest }

async function answer (request: WorkerRequest): Promise<{ result: unknown, transfer: ArrayBuffer[] }> {
  switch (request.kind) {
    case 'prepare': {
      const result = await prepareDocuments(parseDocumentsBody(request.body), request.limits)
      return { result, transfer: transferablesOf(result) }
    }
    case 'merge': {
      const result = mergeStoredPostings(request.merge)
      return { result, transfer: [result.bytes.buffer as ArrayBuffer, result.ends.buffer as ArrayBuffer] }
    }
    default: throw new TypeError(`unknown request ${String((request satisfies never as { kind?: unknown }).kind)}`)
  }
}

const port = parentPort
port?.on('message', (request: WorkerRequest) => {
  void (async () => {
    try {
      const { result, transfer } = await answer(request)
      port.postMessage({ id: request.id, result }, transfer)
    } catch (err) {
      const { name, message, details } = err as { name?: unknown, message?: unknown, details?: unknown }
      port.postMessage({ id: request.id, error: { name: String(name), message: String(message), details } })
    }
  })()
})
