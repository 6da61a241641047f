/**
 * The API's monitoring face: GET /v1/ready (no token: 200 once the node's parts are up, 503 with
 * the reasons until then), GET /metrics (Prometheus text; token needed unless `metrics.public`),
 * per-request HTTP metrics, CORS for listed browser origins (off by default), and which paths
 * the bearer-token check lets through.
 */
import cors from '@fastify/cors'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ReadyBody, type ReadyT } from './schemas.js'
import { DOCS_PREFIX, OPENAPI_PATH } from './openapi.js'

export interface ApiMetrics {
  readonly contentType: string
  /** Serve /metrics without the token. */
  readonly public: boolean
  render: () => Promise<string>
  observe: (o: { method: string, route: string | undefined, status: number, seconds: number }) => void
}

export interface MonitoringInit {
  metrics?: ApiMetrics
  readiness?: () => ReadyT
  /** Browser origins allowed to call the API; empty or absent: no CORS headers at all. */
  corsOrigins?: readonly string[]
}

const ALWAYS_PUBLIC = new Set(['/v1/health', '/v1/ready', OPENAPI_PATH])

/** Whether a request passes without the bearer token: public paths and CORS preflights. */
export function publicRequests (init: MonitoringInit): { isPublicPath: (path: string) => boolean, isPublic: (request: FastifyRequest) => boolean } {
  const isPublicPath = (path: string): boolean => ALWAYS_PUBLIC.has(path) || path === DOCS_PREFIX || path.startsWith(`${DOCS_PREFIX}/`) ||
    (path === '/metrics' && init.metrics?.public === true)
  const corsOn = (init.corsOrigins?.length ?? 0) > 0
  return {
    isPublicPath,
    // A browser sends a preflight without credentials: it must be answered before authentication.
    isPublic: request => isPublicPath(request.url.split('?')[0]) ||
      (corsOn && request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined),
  }
}

export function installMonitoring (app: FastifyInstance, init: MonitoringInit): void {
  const origins = init.corsOrigins ?? []
  if (origins.length > 0) {
    // Registered before the token check (see app.ts): error answers, a 401 included, carry the
    // CORS headers too, so a browser page can read them.
    void app.register(cors, { origin: [...origins], methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], allowedHeaders: ['authorization', 'content-type', 'last-event-id'], maxAge: 600 })
  }

  const metrics = init.metrics
  if (metrics !== undefined) {
    app.addHook('onResponse', async (request, reply) => {
      metrics.observe({ method: request.method, route: request.routeOptions.url, status: reply.statusCode, seconds: reply.elapsedTime / 1000 })
    })
  }
}

/** The monitoring routes (in the plugin with the others, so the OpenAPI document has them). */
export function monitoringRoutes (app: FastifyInstance, init: MonitoringInit): void {
  const metrics = init.metrics
  if (metrics !== undefined) {
    app.get('/metrics', {}, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()))
  }

  const readiness = init.readiness ?? ((): ReadyT => ({ ready: true, checks: [] }))
  app.get('/v1/ready', { schema: { response: { 200: ReadyBody, 503: ReadyBody } } }, async (_request, reply) => {
    const ready = readiness()
    return reply.code(ready.ready ? 200 : 503).send(ready)
  })
}
