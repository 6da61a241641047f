/**
 * Retrieval routes: `POST /v1/retrieve` answers a query against a corpus; `GET /v1/corpora`
 * lists them; `POST /v1/corpora/:name/documents` adds documents (one durable batch per
 * request; the CLI sends a directory in several); `DELETE /v1/corpora/:name` removes one.
 */
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { heavyRequestGate, type ApiLimits } from './guards.js'
import type { AddResult, CorpusSummary, QueryResult } from '../../pipeline/corpus/index.js'

/** The narrow view of the node's CorpusStore that the API needs. */
export interface ApiCorpora {
  list: () => CorpusSummary[]
  /** Adds an upload's raw JSON body `{ documents: [{ path, text }] }` (parsed and checked off the main thread; InvalidDocumentsError). */
  addBody: (name: string, body: Uint8Array, options: { signal?: AbortSignal }) => Promise<AddResult>
  query: (name: string, text: string, options: { k?: number, signal?: AbortSignal }) => Promise<QueryResult[]>
  remove: (name: string, options: { signal?: AbortSignal }) => Promise<void>
}

// Names are checked again by the store (InvalidCorpusNameError); the pattern makes a bad one a 400 here.
const CorpusName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' })
const NameParams = Type.Object({ name: CorpusName }, { additionalProperties: false })

const RetrieveRequest = Type.Object({
  corpus: CorpusName,
  query: Type.String({ minLength: 1, maxLength: 8192 }),
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
}, { additionalProperties: false })

const RetrieveResult = Type.Object({
  id: Type.String(), source: Type.String(), startLine: Type.Integer(), endLine: Type.Integer(), text: Type.String(),
  score: Type.Number(),
  bm25Rank: Type.Optional(Type.Integer()),
  vectorRank: Type.Optional(Type.Integer()),
})
const RetrieveBody = Type.Object({ results: Type.Array(RetrieveResult) })

const CorpusView = Type.Object({ name: Type.String(), chunks: Type.Integer(), sources: Type.Integer(), dims: Type.Union([Type.Integer(), Type.Null()]), embedModel: Type.Union([Type.String(), Type.Null()]), updatedAt: Type.String() })
const CorporaBody = Type.Object({ corpora: Type.Array(CorpusView) })

const AddBody = Type.Object({ chunks: Type.Integer(), sources: Type.Integer() })

/**
 * Documents requests may be larger than the API's 1 MiB default (the CLI sends up to 8 MiB of
 * text): up to `apiLimits.documentsBodyMb` (413 above). They are heavy: a bounded queue admits
 * them (503 when full) before their bodies are read. Their bodies stay raw bytes here (a
 * content-type parser of their own, in a child context): the store's indexing worker thread
 * parses and checks them (400 InvalidDocumentsError), so the main heap never holds the
 * documents as strings (issue 15 item 4). The schema of the body is in the OpenAPI document.
 */
export function corpusRoutes (app: FastifyInstance, corpora: ApiCorpora, limits: Pick<ApiLimits, 'documentsBodyMb' | 'heavyConcurrency' | 'heavyQueue'>): void {
  const heavy = heavyRequestGate(limits)
  app.post('/v1/retrieve', { schema: { body: RetrieveRequest, response: { 200: RetrieveBody } } }, async (request) => {
    const body = request.body as Type.Static<typeof RetrieveRequest>
    const results = await corpora.query(body.corpus, body.query, { k: body.k, signal: AbortSignal.timeout(30_000) })
    return { results: results.map(({ chunk, ...ranks }) => ({ ...chunk, ...ranks })) }
  })

  app.get('/v1/corpora', { schema: { response: { 200: CorporaBody } } }, async () => ({ corpora: corpora.list() }))

  const bodyLimit = limits.documentsBodyMb * 1024 * 1024
  void app.register(async raw => {
    raw.removeContentTypeParser('application/json')
    raw.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => { done(null, body) })
    raw.post('/v1/corpora/:name/documents', { bodyLimit, onRequest: heavy, schema: { params: NameParams, response: { 200: AddBody } } }, async (request) => {
      const { name } = request.params as { name: string }
      return corpora.addBody(name, request.body as Buffer, { signal: AbortSignal.timeout(300_000) })
    })
  })

  app.delete('/v1/corpora/:name', { schema: { params: NameParams } }, async (request, reply) => {
    await corpora.remove((request.params as { name: string }).name, { signal: AbortSignal.timeout(60_000) })
    return reply.code(204).send()
  })
}
