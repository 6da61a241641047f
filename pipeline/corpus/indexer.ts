/**
 * DocumentIndexer: the corpus uploads' heavy part on a worker thread (indexing-worker.ts).
 * `prepare` hands the raw body over (its buffer transferred, not copied, when it owns it) and
 * gets back a compact batch (prepare.ts) ready to insert; the node's main thread never parses
 * the JSON or holds the documents as strings. `merge` merges the batch's postings with the
 * stored ones (merge.ts), so the write builds no per-term lists on the main thread. One thread, started on first use and unref'd
 * (it never keeps the process alive); requests are answered in turn. A thread that ends
 * (a crash, `stop`) fails the requests in flight with IndexerFailedError, and the next request
 * starts a fresh thread. An abort stops the wait, not the work. Body size is bounded before
 * this (the API's `documentsBodyMb`), so the thread's memory is too.
 */
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { AbortedError, GryphgenError, silentLogger, type Logger } from '../../base/index.js'
import type { ChunkLimits } from './chunk.js'
import { checkAborted, CorpusOptionsError, IndexerFailedError, InvalidDocumentsError } from './errors.js'
import type { WorkerRequest } from './indexing-worker.js'
import type { MergedPostings, MergeRequest } from './merge.js'
import type { PreparedDocuments } from './prepare.js'

export interface DocumentIndexerInit {
  logger?: Logger
}

type Answer = { id: number, result: unknown } | { id: number, error: { name: string, message: string, details?: unknown } }
interface Waiter { resolve: (result: unknown) => void, reject: (err: Error) => void }
/** A request without its id (a distributive Omit, so each kind keeps its fields). */
type Request = WorkerRequest extends infer R ? R extends WorkerRequest ? Omit<R, 'id'> : never : never

/** Errors the worker may answer with, rebuilt as their own classes here. */
const KNOWN: Record<string, new (message: string, options?: { details?: unknown }) => GryphgenError> = { InvalidDocumentsError, CorpusOptionsError }

/** The worker's code: import the compiled entry beside this file, or the TypeScript source after registering tsx in the thread. */
function workerCode (): string {
  const own = import.meta.url
  if (!own.endsWith('.ts')) return `import(${JSON.stringify(new URL('./indexing-worker.js', own).href)})`
  // tsx's ESM API (its `import` export; createRequire would find the CommonJS one).
  const tsx = pathToFileURL(join(dirname(createRequire(own).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href
  return `import(${JSON.stringify(tsx)}).then(m => { m.register(); return import(${JSON.stringify(new URL('./indexing-worker.ts', own).href)}) })`
}

/** The array itself when it is its whole buffer (so the buffer can be transferred), else a copy. */
const ownWhole = <A extends Uint8Array | Uint32Array>(a: A): A =>
  a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? a : a.slice() as A

export class DocumentIndexer {
  readonly #log: Logger
  readonly #waiting = new Map<number, Waiter>()
  #worker: Worker | undefined
  #next = 0

  constructor (init: DocumentIndexerInit = {}) {
    this.#log = init.logger ?? silentLogger()
  }

  /** Parses, checks and prepares an upload body off the main thread; takes ownership of `body`. */
  async prepare (body: Uint8Array, options: { limits: ChunkLimits, signal?: AbortSignal }): Promise<PreparedDocuments> {
    const owned = ownWhole(body)
    return this.#ask({ kind: 'prepare', body: owned, limits: options.limits }, [owned.buffer as ArrayBuffer], 'indexing the documents', options.signal) as Promise<PreparedDocuments>
  }

  /** Merges an upload's postings with the stored ones (merge.ts) off the main thread; takes ownership of `old` and `oldEnds` (transferred), copies the rest. */
  async merge (request: MergeRequest, options: { signal?: AbortSignal } = {}): Promise<MergedPostings> {
    const old = ownWhole(request.old)
    const oldEnds = ownWhole(request.oldEnds)
    return this.#ask({ kind: 'merge', merge: { ...request, old, oldEnds } }, [old.buffer as ArrayBuffer, oldEnds.buffer as ArrayBuffer], 'merging the postings', options.signal) as Promise<MergedPostings>
  }

  async #ask (request: Request, transfer: ArrayBuffer[], what: string, signal: AbortSignal | undefined): Promise<unknown> {
    checkAborted(signal, what)
    const worker = this.#started()
    const id = this.#next++
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiting.delete(id)
        reject(new AbortedError(`${what} aborted`, { cause: signal?.reason }))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const done = (): void => { signal?.removeEventListener('abort', onAbort) }
      this.#waiting.set(id, { resolve: p => { done(); resolve(p) }, reject: err => { done(); reject(err) } })
      worker.postMessage({ id, ...request } satisfies WorkerRequest, transfer)
    })
  }

  /** Ends the thread; requests in flight fail with IndexerFailedError. */
  async stop (): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    this.#failAll('the indexer stopped')
    await worker?.terminate()
  }

  #started (): Worker {
    if (this.#worker !== undefined) return this.#worker
    // No resourceLimits: a worker that reaches a heap cap while parsing can take the whole process down with it (seen with V8's fatal out-of-memory in JSON.parse).
    const worker = new Worker(workerCode(), { eval: true })
    worker.unref()
    worker.on('message', (answer: Answer) => {
      const waiter = this.#waiting.get(answer.id)
      this.#waiting.delete(answer.id)
      if (waiter === undefined) return // aborted meanwhile
      if ('result' in answer) { waiter.resolve(answer.result); return }
      const Known = KNOWN[answer.error.name]
      waiter.reject(Known === undefined
        ? new IndexerFailedError(`indexing failed: ${answer.error.message}`, { details: { name: answer.error.name } })
        : new Known(answer.error.message, { details: answer.error.details }))
    })
    const lost = (why: string): void => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      this.#log.warn({ why }, 'indexing worker thread lost; the next upload starts a fresh one')
      this.#failAll(`the indexing worker thread ended: ${why}`)
    }
    worker.on('error', err => { lost(err.message) })
    worker.on('exit', code => { lost(`exit code ${code}`) })
    this.#worker = worker
    return worker
  }

  #failAll (why: string): void {
    const waiting = [...this.#waiting.values()]
    this.#waiting.clear()
    for (const w of waiting) w.reject(new IndexerFailedError(why))
  }
}
