/**
 * The node's HTTP API, built without a socket (`buildApp`) so tests can `inject()`.
 * Strict validation: no type coercion, unknown properties rejected, 1 MiB body limit.
 * Every route but the public ones (/v1/health, /v1/ready, the OpenAPI document and /docs, the
 * dashboard's static files; /metrics when `metrics.public`) needs `Authorization: Bearer <token>`.
 * The routes are registered in a plugin after @fastify/swagger so that the OpenAPI document
 * sees every one of them.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify'
import type { Logger } from '../../base/index.js'
import { installErrorHandling } from './errors.js'
import { taskRoutes, type ApiTasks } from './tasks.js'
import { openAiRoutes, type ApiModels } from './openai.js'
import { corpusRoutes, type ApiCorpora } from './corpora.js'
import { DEFAULT_API_LIMITS, installBodyGuards, type ApiLimits } from './guards.js'
import { installMonitoring, monitoringRoutes, publicRequests, type MonitoringInit } from './monitoring.js'
import { installOpenApi } from './openapi.js'
import { dashboardRoutes, isPublicRoute } from './dashboard.js'
import { statsRoutes, type ApiStats } from './stats.js'
import { ledgerRoutes, type ApiLedger } from './ledger.js'
import { blobRoutes, type ApiBlobs } from './blobs.js'
import { modelFetchRoutes, type ApiModelFetch } from './model-fetch.js'
import { HealthBody, LabelsRequest, NodeBody, PeersBody, type NodeBodyT, type PeerViewT } from './schemas.js'

/** The narrow view of the node that the API needs. */
export interface ApiNode extends ApiModels, ApiStats, ApiLedger {
  readonly peerId: string
  readonly version: string
  describe: () => Promise<NodeBodyT>
  peers: () => PeerViewT[]
  setLabels: (labels: string[], options: { signal?: AbortSignal }) => Promise<void>
  readonly tasks: ApiTasks
  readonly corpora: ApiCorpora
  readonly blobs: ApiBlobs
  readonly modelFetch: ApiModelFetch
}

export interface AppInit extends MonitoringInit {
  node: ApiNode
  token: string
  logger: Logger
  bodyLimit?: number
  /** Body-read timeout, upload cap and queue (config `apiLimits`). */
  limits?: Partial<ApiLimits>
  /** Called for every route as it is registered (tests list them). */
  onRoute?: (route: RouteOptions) => void
  /** The built dashboard (default: the package's dashboard/build/). */
  dashboardDir?: string
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

export function buildApp (init: AppInit): FastifyInstance {
  const app = Fastify({
    loggerInstance: init.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: init.bodyLimit ?? 1024 * 1024,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    // fastify fails a start whose plugins take over 10 s to load; on a node whose cores are
    // busy with tasks, swagger-ui's did (a node that then never starts). A minute still ends
    // a start that is truly stuck.
    pluginTimeout: 60_000,
  })
  installErrorHandling(app)
  const limits = { ...DEFAULT_API_LIMITS, ...init.limits }
  installBodyGuards(app, limits)
  if (init.onRoute !== undefined) app.addHook('onRoute', init.onRoute)
  const expected = digest(`Bearer ${init.token}`)
  const open = publicRequests(init)
  installOpenApi(app, { version: init.node.version, isPublic: open.isPublicPath })
  installMonitoring(app, init)

  // A plugin (registered after CORS): a 401 then carries the CORS headers, and a preflight is
  // answered by CORS before it gets here.
  void app.register(fp(async app => {
    app.addHook('onRequest', async (request, reply) => {
      if (open.isPublic(request) || isPublicRoute(request)) return
      const given = request.headers.authorization
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { name: 'UnauthorizedError', message: 'missing or wrong bearer token (see <data-dir>/api-token)', type: 'authentication_error' } })
      }
    })
  }))

  // The routes, in a plugin registered after @fastify/swagger (so the document sees them all).
  void app.register(async app => {
    app.get('/v1/health', { schema: { response: { 200: HealthBody } } }, async () => ({ ok: true, peerId: init.node.peerId, version: init.node.version }))
    app.get('/v1/node', { schema: { response: { 200: NodeBody } } }, async () => init.node.describe())
    app.get('/v1/peers', { schema: { response: { 200: PeersBody } } }, async () => ({ peers: init.node.peers() }))
    app.put('/v1/node/labels', { schema: { body: LabelsRequest, response: { 200: NodeBody } } }, async (request) => {
      const body = request.body as { labels: string[] }
      await init.node.setLabels(body.labels, { signal: AbortSignal.timeout(10_000) })
      return init.node.describe()
    })
    ledgerRoutes(app, init.node)
    taskRoutes(app, init.node.tasks)
    openAiRoutes(app, init.node.tasks, init.node)
    corpusRoutes(app, init.node.corpora, limits)
    blobRoutes(app, init.node.blobs)
    modelFetchRoutes(app, init.node.modelFetch)
    monitoringRoutes(app, init)
    statsRoutes(app, init.node)
    dashboardRoutes(app, init.dashboardDir)
  })

  return app
}
