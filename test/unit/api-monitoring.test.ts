/**
 * The API's monitoring face on a stand-in node: the OpenAPI document lists every registered
 * route, /docs works offline, /v1/ready answers 503 with reasons then 200, /metrics needs the
 * token unless public, CORS preflights (real requests over a socket) pass before authentication
 * for listed origins only, and the config keys are validated.
 */
import { afterAll, describe, expect, test } from 'vitest'
import { request } from 'node:http'
import type { RouteOptions } from 'fastify'
import { buildApp } from '../../node/api/index.js'
import { NodeMetrics, readiness } from '../../node/monitoring/index.js'
import { resolveConfig } from '../../node/config/index.js'
import { ConfigError, silentLogger } from '../../base/index.js'
import { emptyApiNode } from '../helpers/api-node.js'

const TOKEN = 't'.repeat(43)
const auth = { authorization: `Bearer ${TOKEN}` }
const routes: RouteOptions[] = []
let ready = readiness({ meshStarted: true, ledgerOpen: true, workers: 'starting', sandbox: undefined })
const metrics = new NodeMetrics({ public: false, libp2p: false })
const app = buildApp({ node: emptyApiNode(), token: TOKEN, logger: silentLogger(), onRoute: r => { routes.push(r) }, metrics, readiness: () => ready })
const publicMetrics = buildApp({ node: emptyApiNode(), token: TOKEN, logger: silentLogger(), metrics: new NodeMetrics({ public: true, libp2p: false }) })
const ORIGIN = 'http://dashboard.test:8080'
const withCors = buildApp({ node: emptyApiNode(), token: TOKEN, logger: silentLogger(), corsOrigins: [ORIGIN] })
afterAll(async () => { await Promise.all([app.close(), publicMetrics.close(), withCors.close()]) })

describe('OpenAPI document', () => {
  test('every registered route is in /v1/openapi.json, with error shapes; no token needed', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/openapi.json' })
    expect(res.statusCode).toBe(200)
    const doc = res.json()
    expect(doc.openapi).toMatch(/^3\.1/)
    const documented = routes.filter(r => r.method !== 'HEAD' && (r.schema as { hide?: boolean } | undefined)?.hide !== true)
    expect(documented.length).toBeGreaterThan(20)
    const missing = []
    for (const route of documented) {
      const path = route.url.replace(/:(\w+)/g, '{$1}')
      for (const method of [route.method].flat()) {
        const op = doc.paths[path]?.[method.toLowerCase()]
        if (op === undefined) { missing.push(`${method} ${path}`); continue }
        expect(Object.keys(op.responses).some(code => code.startsWith('2')), `${method} ${path} answer`).toBe(true)
        expect(op.responses['4XX'], `${method} ${path} error shape`).toBeDefined()
      }
    }
    expect(missing).toEqual([])
    for (const path of ['/metrics', '/v1/ready', '/v1/chat/completions', '/v1/tasks']) expect(Object.keys(doc.paths)).toContain(path)
    expect(doc.paths['/v1/node'].get.responses['401']).toBeDefined()
    expect(doc.paths['/v1/chat/completions'].post.requestBody).toBeDefined()
  })

  test('/docs is an interactive reference served without a CDN or a token', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/text\/html/)
    const scripts = [...page.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map(m => m[1])
    expect(scripts.length).toBeGreaterThan(0)
    for (const src of scripts) {
      expect(src).not.toMatch(/^(https?:)?\/\//)
      const asset = await app.inject({ method: 'GET', url: new URL(src, 'http://x/docs/').pathname })
      expect(asset.statusCode, src).toBe(200)
      expect(asset.headers['content-type']).toMatch(/javascript/)
    }
  })
})

describe('readiness', () => {
  test('503 with reasons until every part is up, then 200; no token needed', async () => {
    const waiting = await app.inject({ method: 'GET', url: '/v1/ready' })
    expect(waiting.statusCode).toBe(503)
    expect(waiting.json().ready).toBe(false)
    const failing = waiting.json().checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name)
    expect(failing.sort()).toEqual(['sandbox', 'workers'])
    ready = readiness({ meshStarted: true, ledgerOpen: true, workers: 'running', sandbox: { available: false } })
    const up = await app.inject({ method: 'GET', url: '/v1/ready' })
    expect(up.statusCode).toBe(200)
    expect(up.json().ready).toBe(true)
  })

  test.each([
    ['mesh', { meshStarted: false }],
    ['ledger', { ledgerOpen: false }],
  ])('not ready without the %s', (name, part) => {
    const r = readiness({ meshStarted: true, ledgerOpen: true, workers: 'running', sandbox: { available: true }, ...part })
    expect(r.ready).toBe(false)
    expect(r.checks.find(c => c.name === name)?.ok).toBe(false)
  })
})

describe('/metrics access', () => {
  test('401 without the token, text exposition with it', async () => {
    const denied = await app.inject({ method: 'GET', url: '/metrics' })
    expect(denied.statusCode).toBe(401)
    expect(denied.json().error.name).toBe('UnauthorizedError')
    await app.inject({ method: 'GET', url: '/v1/peers', headers: auth })
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: auth })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.body).toMatch(/^gryphgen_http_requests_total\{method="GET",route="\/v1\/peers",status="200"\} 1$/m)
    expect(res.body).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m)
  })

  test('metrics.public serves it without the token', async () => {
    expect((await publicMetrics.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200)
    expect((await publicMetrics.inject({ method: 'GET', url: '/v1/node' })).statusCode).toBe(401)
  })
})

/** A real HTTP request over a socket (inject would not show what a browser gets). */
async function send (port: number, method: string, path: string, headers: Record<string, string>): Promise<{ status: number, headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, signal: AbortSignal.timeout(60_000) }, res => {
      res.resume()
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers }) })
    })
    req.on('error', reject)
    req.end()
  })
}

describe('CORS', () => {
  test('a listed origin\'s preflight is answered before authentication; other origins get no CORS headers', async () => {
    await withCors.listen({ host: '127.0.0.1', port: 0 })
    const port = (withCors.server.address() as { port: number }).port
    const preflight = { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' }
    const ok = await send(port, 'OPTIONS', '/v1/node', preflight)
    expect(ok.status).toBe(204)
    expect(ok.headers['access-control-allow-origin']).toBe(ORIGIN)
    expect(String(ok.headers['access-control-allow-headers'])).toMatch(/authorization/)
    const stranger = await send(port, 'OPTIONS', '/v1/node', { ...preflight, origin: 'http://evil.test' })
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined()
    // The real request still needs the token; its 401 carries the header so the page can read it.
    const denied = await send(port, 'GET', '/v1/node', { origin: ORIGIN })
    expect(denied.status).toBe(401)
    expect(denied.headers['access-control-allow-origin']).toBe(ORIGIN)
    const allowed = await send(port, 'GET', '/v1/node', { origin: ORIGIN, ...auth })
    expect(allowed.status).toBe(200)
    expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN)
  })

  test('off by default: a preflight is not let through', async () => {
    const res = await app.inject({ method: 'OPTIONS', url: '/v1/node', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } })
    expect(res.statusCode).toBe(401)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('monitoring config', () => {
  test('defaults: metrics need the token, no CORS', () => {
    const config = resolveConfig({ dataDir: '/tmp/x' })
    expect(config.metrics).toEqual({ public: false, libp2p: false })
    expect(config.api.cors.origins).toEqual([])
  })

  test('metrics.public and api.cors.origins from the file', () => {
    const config = resolveConfig({ dataDir: '/tmp/x', file: { path: 'g.json', text: JSON.stringify({ metrics: { public: true }, api: { cors: { origins: [ORIGIN] } } }) } })
    expect(config.metrics.public).toBe(true)
    expect(config.api.cors.origins).toEqual([ORIGIN])
  })

  test.each([
    ['a non-boolean metrics.public', { metrics: { public: 'yes' } }],
    ['an unknown metrics key', { metrics: { open: true } }],
    ['an origin with a path', { api: { cors: { origins: ['http://a.test/x'] } } }],
    ['an origin without a scheme', { api: { cors: { origins: ['a.test'] } } }],
  ])('rejects %s with a ConfigError', (_name, value) => {
    expect(() => resolveConfig({ dataDir: '/tmp/x', file: { path: 'g.json', text: JSON.stringify(value) } })).toThrow(ConfigError)
  })
})
