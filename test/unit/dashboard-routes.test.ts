/**
 * The dashboard's static routes and the stats history route, on the real fastify app through
 * `inject()`: public files without the token (and nothing else), content types, cache headers,
 * gzip, strict names; the stats history behind the token with its schema.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { buildApp, type ApiNode } from '../../node/api/index.js'
import { silentLogger } from '../../base/index.js'
import { removeTempDirs, tempDir } from '../helpers/nodes.js'

const TOKEN = 'b'.repeat(43)
const INDEX = '<!doctype html><title>gryphgen</title><script type="module" src="/assets/main-ABC123.js"></script>'
const JS = 'console.log("dashboard")'
const sample = { at: 1_700_000_000_000, transitions: { succeeded: 2 }, nodes: [{ peerId: 'p1', name: '<img src=x onerror=alert(1)>', cpuPercent: 12.5, queued: 1, running: 2 }] }
const node = { statsHistory: () => ({ intervalMs: 15_000, samples: [sample] }) } as unknown as ApiNode
let app: FastifyInstance
let bare: FastifyInstance

beforeAll(async () => {
  const dir = await tempDir()
  await mkdir(join(dir, 'assets'))
  await writeFile(join(dir, 'index.html'), INDEX)
  await writeFile(join(dir, 'assets', 'main-ABC123.js'), JS)
  await writeFile(join(dir, 'assets', 'main-DEF456.css'), 'body{}')
  app = buildApp({ node, token: TOKEN, logger: silentLogger(), dashboardDir: dir })
  bare = buildApp({ node, token: TOKEN, logger: silentLogger(), dashboardDir: join(dir, 'absent') })
})
afterAll(async () => { await app.close(); await bare.close(); await removeTempDirs() })

describe('dashboard files', () => {
  test('GET / serves index.html without a token, never cached, with a strict CSP', async () => {
    const res = await app.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-cache')
    expect(res.headers['content-security-policy']).toContain("script-src 'self'")
    expect(res.body).toBe(INDEX)
    // The fragment (#token=...) never reaches a server; a query string does not change the page.
    expect((await app.inject({ method: 'GET', url: '/?x=1' })).body).toBe(INDEX)
  })

  test('hashed assets are immutable, with their content type, gzipped when the client accepts it', async () => {
    const js = await app.inject({ method: 'GET', url: '/assets/main-ABC123.js', headers: { 'accept-encoding': 'gzip, br' } })
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(js.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(js.rawPayload).toString()).toBe(JS)
    const css = await app.inject({ method: 'GET', url: '/assets/main-DEF456.css' })
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8')
    expect(css.headers['content-encoding']).toBeUndefined()
    expect(css.body).toBe('body{}')
  })

  test('unknown or malformed asset names: 404 / 400 with a name, never a file outside the build', async () => {
    const missing = await app.inject({ method: 'GET', url: '/assets/nope.js' })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.name).toBe('NotFoundError')
    for (const url of ['/assets/..%2Findex.html', '/assets/.hidden', '/assets/%2e%2e%2f%2e%2e%2fpackage.json']) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(400)
      expect(res.json().error.name).toBe('ValidationError')
    }
  })

  test('only the files are public: the API still needs the token', async () => {
    for (const url of ['/v1/node', '/v1/stats/history', '/v1/tasks', '/assets']) {
      const res = await app.inject({ method: 'GET', url })
      expect(res.statusCode, url).toBe(401)
    }
  })

  test('a checkout without a build says how to build it', async () => {
    const res = await bare.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('npm run build')
  })
})

describe('GET /v1/stats/history', () => {
  test('the samples, with the token', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/stats/history', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ intervalMs: 15_000, samples: [sample] })
  })
})
