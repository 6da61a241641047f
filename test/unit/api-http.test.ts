/**
 * The HTTP API on a real loopback socket (a stub node behind it): what a client sees on the
 * wire when it asks HEAD of an event stream, sends a body slowly, without a token, too large,
 * or while the heavy-request queue is full.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp, type ApiNode } from '../../node/api/index.js'
import { NotFoundError, silentLogger } from '../../base/index.js'
import { PATIENCE_MS } from '../helpers/nodes.js'

const TOKEN = 'b'.repeat(43)
let releaseAdd: () => void = () => {}
let adds = 0
const node = {
  peerId: 'peer-1',
  version: '0.1.0',
  tasks: {
    get: async (id: string) => { if (id === 'task-0001') return { id, state: 'running' }; throw new NotFoundError(`no task ${id}`) },
    subscribe: () => () => {},
  },
  corpora: {
    list: () => [],
    // Holds the request until the test releases it: the heavy-request slot stays taken.
    addBody: async () => { adds++; await new Promise<void>(resolve => { releaseAdd = resolve }); return { chunks: 1, sources: 1 } },
    query: async () => [],
    remove: async () => {},
  },
} as unknown as ApiNode

let app: FastifyInstance
let port = 0
beforeAll(async () => {
  app = buildApp({ node, token: TOKEN, logger: silentLogger(), limits: { bodyReadTimeoutMs: 500, documentsBodyMb: 1, heavyConcurrency: 1, heavyQueue: 0 } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  port = (app.server.address() as { port: number }).port
})
afterAll(async () => { await app.close() })

const auth = { authorization: `Bearer ${TOKEN}` }
const url = (path: string): string => `http://127.0.0.1:${port}${path}`

/** Sends `head` on a raw socket, then trickles body bytes until the server answers and closes; what it answered. */
async function trickle (head: string): Promise<{ response: string, closed: boolean }> {
  const socket: Socket = connect(port, '127.0.0.1')
  let response = ''
  socket.on('data', d => { response += d.toString() })
  socket.on('error', () => {}) // the server may reset a socket it refused; the answer is what counts
  socket.write(head)
  const trickler = setInterval(() => { if (socket.writable) socket.write('x') }, 100)
  const closed = await new Promise<boolean>(resolve => {
    socket.once('close', () => resolve(true))
    setTimeout(() => resolve(false), PATIENCE_MS)
  })
  clearInterval(trickler)
  socket.destroy()
  return { response, closed }
}

describe('HTTP API on a socket', () => {
  test.each(['/v1/events', '/v1/tasks/task-0001/events'])('HEAD %s answers headers only, at once', async (path) => {
    const res = await fetch(url(path), { method: 'HEAD', headers: auth, signal: AbortSignal.timeout(PATIENCE_MS) })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(await res.text()).toBe('')
  })

  test('HEAD on the events of an unknown task is a 404', async () => {
    const res = await fetch(url('/v1/tasks/task-9999/events'), { method: 'HEAD', headers: auth, signal: AbortSignal.timeout(PATIENCE_MS) })
    expect(res.status).toBe(404)
  })

  test.each([
    ['no token', ''],
    ['a wrong token', 'authorization: Bearer wrong\r\n'],
  ])('a slow body with %s gets 401 on its headers and the connection closes', async (_name, header) => {
    const { response, closed } = await trickle(`POST /v1/corpora/c/documents HTTP/1.1\r\nhost: x\r\n${header}content-type: application/json\r\ncontent-length: 100000\r\n\r\n{"documents":`)
    expect(response).toMatch(/^HTTP\/1\.1 401/)
    expect(response).toContain('UnauthorizedError')
    expect(closed).toBe(true)
  })

  test('an authenticated body slower than the body-read timeout gets 408 and the connection closes', async () => {
    const { response, closed } = await trickle(`PUT /v1/node/labels HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"labels":`)
    expect(response).toMatch(/^HTTP\/1\.1 408/)
    expect(response).toContain('BodyTimeoutError')
    expect(closed).toBe(true)
  })

  test('documents over the cap are refused with 413 before the body is read', async () => {
    const { response, closed } = await trickle(`POST /v1/corpora/c/documents HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: ${2 * 1024 * 1024}\r\n\r\n{"documents":`)
    expect(response).toMatch(/^HTTP\/1\.1 413/)
    expect(response).toContain('BodyTooLargeError')
    expect(closed).toBe(true)
  })

  test('an upload beyond the heavy-request queue is refused with 503; once the first ends, the next is admitted', async () => {
    const post = async (): Promise<Response> => fetch(url('/v1/corpora/c/documents'), {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ documents: [{ path: 'a.md', text: 'hello' }] }), signal: AbortSignal.timeout(PATIENCE_MS),
    })
    const first = post()
    await expect.poll(() => adds, { timeout: PATIENCE_MS }).toBe(1)
    const busy = await post()
    expect(busy.status).toBe(503)
    expect(((await busy.json()) as { error: { name: string } }).error.name).toBe('ServerBusyError')
    releaseAdd()
    expect((await first).status).toBe(200)
    const next = post()
    await expect.poll(() => adds, { timeout: PATIENCE_MS }).toBe(2)
    releaseAdd()
    expect((await next).status).toBe(200)
  })
})
