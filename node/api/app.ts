/**
 * The node's HTTP API, built without a socket (`buildApp`) so tests can `inject()`.
 * Strict validation: no type coercion, unknown properties rejected, 1 MiB body limit.
 * Every route but /v1/health needs `Authorization: Bearer <token>`.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { type Logger, NotFoundError } from '../../base/index.js'
import { installErrorHandling } from './errors.js'
import { taskRoutes, type ApiTasks } from './tasks.js'
import { openAiRoutes, type ApiModels } from './openai.js'
import { corpusRoutes, type ApiCorpora } from './corpora.js'
import { blobRoutes, type ApiBlobs } from './blobs.js'
import { HealthBody, HistoryBody, LabelsRequest, LedgerStatusBody, NodeBody, PeersBody, TaskIdParams, type HistoryT, type LedgerStatusT, type NodeBodyT, type PeerViewT } from './schemas.js'

/** The narrow view of the node that the API needs. */
export interface ApiNode extends ApiModels {
  readonly peerId: string
  readonly version: string
  describe: () => Promise<NodeBodyT>
  peers: () => PeerViewT[]
  setLabels: (labels: string[], options: { signal?: AbortSignal }) => Promise<void>
  ledgerStatus: () => LedgerStatusT
  taskHistory: (id: string) => Promise<HistoryT | undefined>
  readonly tasks: ApiTasks
  readonly corpora: ApiCorpora
  readonly blobs: ApiBlobs
}

export interface AppInit {
  node: ApiNode
  token: string
  logger: Logger
  bodyLimit?: number
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

export function buildApp (init: AppInit): FastifyInstance {
  const app = Fastify({
    loggerInstance: init.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: init.bodyLimit ?? 1024 * 1024,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  })
  installErrorHandling(app)
  const expected = digest(`Bearer ${init.token}`)

  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/v1/health' || request.url.startsWith('/v1/health?')) return
    const given = request.headers.authorization
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { name: 'UnauthorizedError', message: 'missing or wrong bearer token (see <data-dir>/api-token)', type: 'authentication_error' } })
    }
  })

  app.get('/v1/health', { schema: { response: { 200: HealthBody } } }, async () => ({ ok: true, peerId: init.node.peerId, version: init.node.version }))

  app.get('/v1/node', { schema: { response: { 200: NodeBody } } }, async () => init.node.describe())

  app.get('/v1/peers', { schema: { response: { 200: PeersBody } } }, async () => ({ peers: init.node.peers() }))

  app.put('/v1/node/labels', { schema: { body: LabelsRequest, response: { 200: NodeBody } } }, async (request) => {
    const body = request.body as { labels: string[] }
    const signal = AbortSignal.timeout(10_000)
    await init.node.setLabels(body.labels, { signal })
    return init.node.describe()
  })

  app.get('/v1/ledger/status', { schema: { response: { 200: LedgerStatusBody } } }, async () => init.node.ledgerStatus())

  app.get('/v1/tasks/:id/history', { schema: { params: TaskIdParams, response: { 200: HistoryBody } } }, async (request) => {
    const { id } = request.params as { id: string }
    const history = await init.node.taskHistory(id)
    if (history === undefined) throw new NotFoundError(`no task ${id} in the ledger`)
    return history
  })

  taskRoutes(app, init.node.tasks)
  openAiRoutes(app, init.node.tasks, init.node)
  corpusRoutes(app, init.node.corpora)
  blobRoutes(app, init.node.blobs)

  return app
}
