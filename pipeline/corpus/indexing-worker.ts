/**
 * The indexing worker thread (started by indexer.ts): reads an upload's raw body, checks it
 * (documents.ts) and chunks and tokenizes it (prepare.ts), one request at a time, so neither
 * the parse nor the big strings touch the node's main thread or heap. Answers
 * `{ id, prepared }` with the batch's buffers transferred, or `{ id, error }` with the error's
 * name, message and details.
 */
import { parentPort } from 'node:worker_threads'
import type { ChunkLimits } from './chunk.js'
import { parseDocumentsBody } from './documents.js'
import { prepareDocuments, transferablesOf } from './prepare.js'

export interface PrepareRequest { id: number, body: Uint8Array, limits: ChunkLimits }

const port = parentPort
port?.on('message', (request: PrepareRequest) => {
  void (async () => {
    try {
      const prepared = await prepareDocuments(parseDocumentsBody(request.body), request.limits)
      port.postMessage({ id: request.id, prepared }, transferablesOf(prepared))
    } catch (err) {
      const { name, message, details } = err as { name?: unknown, message?: unknown, details?: unknown }
      port.postMessage({ id: request.id, error: { name: String(name), message: String(message), details } })
    }
  })()
})
