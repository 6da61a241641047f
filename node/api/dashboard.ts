/**
 * The dashboard's static files (dashboard/, built by `npm run build` into dashboard/build/):
 * GET / (index.html, `no-cache`) and GET /assets/<hashed name> (`immutable`). These routes are
 * public (`config.public`): a browser cannot send a bearer token when it navigates, and the
 * files hold no data; the app asks for the token and sends it with every API call. Files are
 * read once at start (they are small) and gzipped once; a node whose checkout has no build
 * answers GET / with a page that says how to build it. Strict CSP: scripts only from this
 * origin, so text that peers supply can never run as script even if it were put into the page.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { NotFoundError } from '../../base/index.js'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
/** Left out of the OpenAPI document (@fastify/swagger reads `hide`). */
const HIDDEN: Record<string, unknown> = { hide: true }
const ASSET_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'

interface StaticFile { type: string, body: Buffer, gzipped: Buffer }

/** dashboard/build/ of the package, from node/api/ (tsx) or dist/node/api/ (compiled). */
export function defaultDashboardDir (): string | undefined {
  for (const up of ['../../dashboard/build', '../../../dashboard/build']) {
    const dir = fileURLToPath(new URL(up, import.meta.url))
    if (existsSync(join(dir, 'index.html'))) return dir
  }
  return undefined
}

function load (path: string): StaticFile {
  const body = readFileSync(path)
  return { type: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream', body, gzipped: gzipSync(body, { level: 9 }) }
}

function send (request: FastifyRequest, reply: FastifyReply, file: StaticFile, cache: string): FastifyReply {
  const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')
  reply.header('content-type', file.type).header('cache-control', cache).header('vary', 'accept-encoding').header('x-content-type-options', 'nosniff')
  if (gzip) reply.header('content-encoding', 'gzip')
  return reply.send(gzip ? file.gzipped : file.body)
}

const NOT_BUILT = Buffer.from('<!doctype html><meta charset="utf-8"><title>gryphgen</title><p>The dashboard is not built in this checkout: run <code>npm run build</code> and restart the node.</p>')

export function dashboardRoutes (app: FastifyInstance, dir: string | undefined = defaultDashboardDir()): void {
  const assets = new Map<string, StaticFile>()
  let index: StaticFile = { type: CONTENT_TYPES['.html'], body: NOT_BUILT, gzipped: gzipSync(NOT_BUILT) }
  if (dir !== undefined && existsSync(join(dir, 'index.html'))) {
    index = load(join(dir, 'index.html'))
    const assetDir = join(dir, 'assets')
    if (existsSync(assetDir)) for (const name of readdirSync(assetDir)) assets.set(name, load(join(assetDir, name)))
  }
  const page = { public: true }
  app.get('/', { config: page, schema: { ...HIDDEN } }, async (request, reply) => {
    reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY')
    return send(request, reply, index, 'no-cache')
  })
  app.get('/assets/:name', { config: page, schema: { ...HIDDEN, params: Type.Object({ name: Type.String({ pattern: ASSET_NAME }) }, { additionalProperties: false }) } }, async (request, reply) => {
    const { name } = request.params as { name: string }
    const file = assets.get(name)
    if (file === undefined) throw new NotFoundError(`no dashboard asset ${name}`)
    // Names carry a content hash (esbuild's [hash]): a changed file is a new name.
    return send(request, reply, file, 'public, max-age=31536000, immutable')
  })
}

/** Whether the route of this request serves public files (the auth hook lets it through). */
export function isPublicRoute (request: FastifyRequest): boolean {
  return (request.routeOptions.config as { public?: boolean } | undefined)?.public === true
}
