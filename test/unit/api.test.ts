import { afterAll, describe, expect, test } from 'vitest'
import { buildApp, type ApiNode, type NodeBodyT } from '../../node/api/index.js'
import { silentLogger, NotFoundError } from '../../base/index.js'
import { caps, taskStats, workerStats } from '../helpers/fixtures.js'
import { parseSubmission } from '../../tasks/index.js'
import { kindRegistry } from '../../node/kinds/index.js'

const TOKEN = 'a'.repeat(43)
let labels: string[] = []
const node: ApiNode = {
  peerId: 'peer-1',
  version: '0.1.0',
  describe: async (): Promise<NodeBodyT> => ({
    peerId: 'peer-1', name: 'n', startedAt: new Date(0).toISOString(), addresses: ['/ip4/127.0.0.1/tcp/1'],
    connections: { inbound: 0, outbound: 0 }, capabilities: { ...caps, labels }, adverts: { published: 0, accepted: 0, rejected: 0, stale: 0 },
    bootstrap: [], mdns: false, workers: workerStats, tasks: taskStats,
  }),
  peers: () => [],
  meshModels: () => [],
  setLabels: async (next) => { labels = next },
  ledgerStatus: () => ({ entries: 3, indexed: 3, versionVector: { 'peer-1': 3 } }),
  ledgerRetention: async () => ({ compactedTasks: 2, nextCompactionAt: null }),
  taskHistory: async (id) => id === 'task-0001' ? { entries: [] } : undefined,
  statsHistory: () => ({ intervalMs: 15_000, samples: [] }),
  ledgerPeers: () => ({ peers: [] }),
  compactLedger: async ({ olderThanMs }) => ({ tasks: olderThanMs ?? 7, entries: 0, horizon: new Date(0).toISOString() }),
  // Submissions go through the real kind registry (pure); the rest is not exercised here.
  tasks: {
    submit: async (body) => { parseSubmission(body, kindRegistry()); return { id: 'task-0001', state: 'pending' } },
    get: async (id) => { throw new NotFoundError(`no task ${id}`) },
    list: async () => [],
    listPage: async ({ cursor }) => cursor === undefined ? { tasks: [], nextCursor: 'next-page' } : { tasks: [] },
    cancel: async (id) => { throw new NotFoundError(`no task ${id}`) },
    submitWatched: async () => { throw new Error('not exercised here') },
    subscribe: () => undefined,
    getBlob: async (digest) => { throw new NotFoundError(`no blob ${digest}`) },
    feedback: async (id) => { throw new NotFoundError(`no task ${id}`) },
  },
  corpora: { list: () => [], addBody: async () => ({ chunks: 0, sources: 0 }), query: async () => [], remove: async () => {} },
  blobs: {
    pin: async (digest) => { throw new NotFoundError(`no blob ${digest}`) },
    unpin: async (digest) => ({ digest, pinned: false }),
    status: () => ({ storedBytes: 0, storedBlobs: 0, maxBytes: 1, pinned: 0, overCap: false, gc: { runs: 0, removed: 0, removedBytes: 0, lastRunAt: null } }),
    collect: async () => ({ removed: 0, removedBytes: 0, storedBytes: 0, overCap: false }),
  },
  modelFetch: {
    request: async name => {
      if (name !== 'known') throw new NotFoundError(`no model ${name}`)
      return { held: false, fetch: { name, digest: 'a'.repeat(64), state: 'fetching', doneBytes: 0, totalBytes: null, peer: null, bytesPerSecond: 0, holdersRejected: 0, startedAt: new Date(0).toISOString() } }
    },
  },
}
const app = buildApp({ node, token: TOKEN, logger: silentLogger() })
const auth = { authorization: `Bearer ${TOKEN}` }
afterAll(async () => { await app.close() })

describe('HTTP API', () => {
  test('health needs no token', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/health' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ ok: true, peerId: 'peer-1', version: '0.1.0' })
  })

  test.each([
    ['no header', {}],
    ['wrong token', { authorization: 'Bearer nope' }],
    ['wrong scheme', { authorization: `Basic ${TOKEN}` }],
  ])('401 with %s', async (_name, headers) => {
    const res = await app.inject({ method: 'GET', url: '/v1/node', headers })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.name).toBe('UnauthorizedError')
  })

  test('node and peers with the token', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/node', headers: auth })).json().peerId).toBe('peer-1')
    expect((await app.inject({ method: 'GET', url: '/v1/peers', headers: auth })).json()).toEqual({ peers: [] })
  })

  test('labels change through PUT', async () => {
    const res = await app.inject({ method: 'PUT', url: '/v1/node/labels', headers: auth, payload: { labels: ['gpu', 'fast'] } })
    expect(res.statusCode).toBe(200)
    expect(res.json().capabilities.labels).toEqual(['gpu', 'fast'])
  })

  test.each([
    ['unknown property', { labels: [], extra: 1 }, 'ValidationError'],
    ['no coercion of types', { labels: 'gpu' }, 'ValidationError'],
    ['invalid label', { labels: ['has space'] }, 'ValidationError'],
    ['malformed JSON', '{"labels": [', 'InvalidJsonError'],
  ])('400 on %s', async (_name, payload, name) => {
    const res = await app.inject({ method: 'PUT', url: '/v1/node/labels', headers: { ...auth, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.name).toBe(name)
    expect(typeof res.json().error.message).toBe('string')
  })

  test('body over the limit is 413', async () => {
    const res = await app.inject({ method: 'PUT', url: '/v1/node/labels', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ labels: ['x'.repeat(2 * 1024 * 1024)] }) })
    expect(res.statusCode).toBe(413)
  })

  test('unknown route is a 404 in the error shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nope', headers: auth })
    expect(res.statusCode).toBe(404)
    expect(res.json().error.name).toBe('NotFoundError')
  })

  test('ledger status and task history', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/ledger/status', headers: auth })).json()).toEqual({ entries: 3, indexed: 3, versionVector: { 'peer-1': 3 }, compactedTasks: 2, nextCompactionAt: null })
    expect((await app.inject({ method: 'POST', url: '/v1/ledger/compact', headers: auth, payload: { olderThanMs: 5 } })).json()).toMatchObject({ tasks: 5 })
    expect((await app.inject({ method: 'POST', url: '/v1/ledger/compact', headers: auth, payload: {} })).json()).toMatchObject({ tasks: 7 })
    const negative = await app.inject({ method: 'POST', url: '/v1/ledger/compact', headers: auth, payload: { olderThanMs: -1 } })
    expect(negative.statusCode).toBe(400)
    expect(negative.json().error.name).toBeTypeOf('string')
    expect((await app.inject({ method: 'GET', url: '/v1/tasks/task-0001/history', headers: auth })).json()).toEqual({ entries: [] })
    const missing = await app.inject({ method: 'GET', url: '/v1/tasks/task-9999/history', headers: auth })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.name).toBe('NotFoundError')
    const bad = await app.inject({ method: 'GET', url: '/v1/tasks/bad%20id!/history', headers: auth })
    expect(bad.statusCode).toBe(400)
  })

  test('feedback: a verdict is accept or reject; an unknown task is a 404', async () => {
    const post = async (payload: unknown) => app.inject({ method: 'POST', url: '/v1/tasks/task-0001/feedback', headers: auth, payload: payload as Record<string, unknown> })
    expect((await post({ verdict: 'maybe' })).statusCode).toBe(400)
    expect((await post({ verdict: 'accept', extra: 1 })).statusCode).toBe(400)
    const unknown = await post({ verdict: 'reject', note: 'wrong' })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().error.name).toBe('NotFoundError')
  })

  test('blob pins: a digest that is not 64 lowercase hex is a 400 ValidationError; unpin answers the state', async () => {
    for (const method of ['POST', 'DELETE'] as const) {
      const res = await app.inject({ method, url: '/v1/blobs/ABC/pin', headers: auth })
      expect(res.statusCode).toBe(400)
      expect(res.json().error.name).toBe('ValidationError')
    }
    const digest = 'a'.repeat(64)
    expect((await app.inject({ method: 'POST', url: `/v1/blobs/${digest}/pin`, headers: auth })).json().error.name).toBe('NotFoundError')
    expect((await app.inject({ method: 'DELETE', url: `/v1/blobs/${digest}/pin`, headers: auth })).json()).toEqual({ digest, pinned: false })
  })

  test('a 500 hides internals', async () => {
    const failing = buildApp({ node: { ...node, describe: async () => { throw new Error('secret path /etc/x') } }, token: TOKEN, logger: silentLogger() })
    const res = await failing.inject({ method: 'GET', url: '/v1/node', headers: auth })
    expect(res.statusCode).toBe(500)
    expect(res.body).not.toContain('secret')
    expect(res.json().error.name).toBe('InternalError')
    await failing.close()
  })

  describe('POST /v1/tasks validation', () => {
    const post = async (payload: unknown) => app.inject({ method: 'POST', url: '/v1/tasks', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) })

    test('a valid exec task is accepted with 202', async () => {
      const res = await post({ kind: 'exec', command: ['true'], priority: 9, requirements: { cpus: 1, memoryMb: 64, labels: ['ci'] }, limits: { timeoutMs: 1000 } })
      expect(res.statusCode).toBe(202)
      expect(res.json()).toEqual({ id: 'task-0001', state: 'pending' })
    })

    test.each([
      ['unknown kind', { kind: 'rm-rf' }, /unknown task kind/],
      ['exec without command', { kind: 'exec' }, /command/],
      ['priority out of range', { kind: 'noop', priority: 10 }, /priority/],
      ['negative memory', { kind: 'noop', requirements: { memoryMb: -1 } }, /memoryMb/],
      ['gpu count zero', { kind: 'noop', requirements: { gpu: { count: 0, minVramMb: 1 } } }, /gpu/],
      ['unknown field', { kind: 'noop', colour: 'red' }, /colour|additional/i],
      ['string command', { kind: 'exec', command: 'ls -la' }, /command/],
      ['file path escaping /work', { kind: 'exec', command: ['true'], files: { '../etc/passwd': 'x' } }, /path|\.\./],
      ['timeout too small', { kind: 'noop', limits: { timeoutMs: 1 } }, /timeoutMs/],
      ['not an object', [1, 2], /object/],
    ])('%s -> 400 with reasons', async (_name, body, pattern) => {
      const res = await post(body)
      expect(res.statusCode).toBe(400)
      const error = res.json().error
      expect(error.name).toBe('InvalidTaskError')
      expect(`${error.message} ${(error.details ?? []).join(' ')}`).toMatch(pattern)
      expect(Array.isArray(error.details)).toBe(true)
    })

    test('a misspelled field is named, with the field it most likely means', async () => {
      const res = await post({ kind: 'noop', priorty: 5, requirements: { memroyMb: 64 } })
      expect(res.statusCode).toBe(400)
      const { details } = res.json().error as { details: string[] }
      expect(details).toContain('unknown field `priorty` (did you mean `priority`?)')
      expect(details).toContain('unknown field `memroyMb` in requirements (did you mean `memoryMb`?)')
      expect(details.join(' ')).not.toMatch(/schema is false/)
      const labels = await app.inject({ method: 'PUT', url: '/v1/node/labels', headers: auth, payload: { lables: ['x'], labels: [] } })
      expect(labels.statusCode).toBe(400)
      expect(labels.json().error.message).toBe('unknown field `lables` (did you mean `labels`?)')
    })

    test('a malformed task id in a path says it is not a task id', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/tasks/nope123', headers: auth })
      expect(res.statusCode).toBe(400)
      expect(res.json().error.message).toBe('not a task id: "nope123"')
    })

    test('invalid JSON -> 400', async () => {
      const res = await app.inject({ method: 'POST', url: '/v1/tasks', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"kind":' })
      expect(res.statusCode).toBe(400)
      expect(res.json().error.name).toBe('InvalidJsonError')
    })
  })
})

describe('POST /v1/models/fetch', () => {
  test('starts a fetch (202 with its progress); an unknown model is 404; a bad body is 400 with a name', async () => {
    const started = await app.inject({ method: 'POST', url: '/v1/models/fetch', headers: auth, payload: { name: 'known' } })
    expect(started.statusCode).toBe(202)
    expect(started.json()).toMatchObject({ name: 'known', state: 'fetching', doneBytes: 0 })
    const unknown = await app.inject({ method: 'POST', url: '/v1/models/fetch', headers: auth, payload: { name: 'other' } })
    expect(unknown.statusCode).toBe(404)
    for (const payload of [{ name: '../x' }, { name: 'known', extra: 1 }, {}]) {
      const bad = await app.inject({ method: 'POST', url: '/v1/models/fetch', headers: auth, payload })
      expect(bad.statusCode).toBe(400)
      expect(typeof bad.json().error.name).toBe('string')
    }
  })
})
