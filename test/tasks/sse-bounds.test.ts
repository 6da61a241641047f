/**
 * Bounded memory of event streams (SSE): a client that does not read is dropped once a bounded
 * backlog waits for it, a reconnect with Last-Event-ID resumes, and 500 clients that never read
 * leave the node's memory bounded while it keeps answering. The clients are raw loopback sockets
 * that never read; the traffic is large events pushed through the node's real TaskEvents and SSE
 * routes (enough to fill each socket's kernel buffers, ~4 MB on Linux loopback, several times).
 */
import { afterAll, describe, expect, test } from 'vitest'
import { connect, type Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { newSwarmKeyHex, nodeTracker, removeTempDirs, waitFor } from '../helpers/nodes.js'
import type { GryphgenNode } from '../../node/node.js'
import type { TaskEvent } from '../../protocols/index.js'

/** A full garbage collection now (the test process runs without --expose-gc). */
function collectGarbage (): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

/** Heap and off-heap (buffers) memory in use. */
function held (): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

const nodes = nodeTracker()
afterAll(async () => { await nodes.stopAll(); await removeTempDirs() })

async function setUp (): Promise<{ node: GryphgenNode, token: string, taskId: string }> {
  const node = await nodes.start({ swarmKey: newSwarmKeyHex() })
  const token = (await readFile(join(node.config.dataDir, 'api-token'), 'utf8')).trim()
  // A task no node can run: it stays pending, so its event stream stays open.
  const { id } = await node.tasks.submit({ kind: 'noop', requirements: { labels: ['nowhere'] } }, {})
  return { node, token, taskId: id }
}

/** A client that sends its request and then never reads a byte. */
function silentClient (node: GryphgenNode, token: string, path: string): Socket {
  const socket = connect(node.apiPort, '127.0.0.1')
  socket.on('error', () => {})
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`)
  socket.pause()
  return socket
}

/** Emits `count` events made by `make`, yielding to the event loop between them (as real traffic does). */
async function pump (node: GryphgenNode, count: number, make: (i: number) => TaskEvent): Promise<void> {
  for (let i = 0; i < count; i++) {
    node.taskService.events.emit(make(i))
    await new Promise(resolve => setImmediate(resolve))
  }
}

/** Reads an SSE response until `enough` of its events (id and data lines) have come, then cancels it. */
async function readSse (response: Response, enough: number): Promise<Array<{ id?: string, event: string, data: string }>> {
  const events: Array<{ id?: string, event: string, data: string }> = []
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  while (events.length < enough) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += value
    let at: number
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at)
      buffer = buffer.slice(at + 2)
      const fields = Object.fromEntries(block.split('\n').filter(l => !l.startsWith(':')).map(l => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]))
      if (fields.event !== undefined) events.push(fields as { id?: string, event: string, data: string })
    }
  }
  await reader.cancel()
  return events
}

const logLine = (task: string, line: string): TaskEvent => ({ type: 'log', task, stream: 'stdout', line })

describe('event streams with bounded memory', () => {
  test('a client that does not read is dropped: its subscription goes and it sees the stream end', async () => {
    const { node, token, taskId } = await setUp()
    const events = node.taskService.events
    const own = events.subscribers // the node's own listeners (its stats history)
    const socket = silentClient(node, token, `/v1/tasks/${taskId}/events`)
    await waitFor(() => events.subscribers === own + 1)
    // 160 lines of 60 KB (~10 MB): far more than the kernel buffers of one loopback socket.
    await pump(node, 160, i => logLine(taskId, `${i} ${'x'.repeat(60_000)}`))
    await waitFor(() => events.subscribers === own)
    // Read now: what had reached the socket comes, then the end.
    const ended = new Promise<void>(resolve => { socket.on('end', resolve); socket.on('close', () => resolve()) })
    socket.resume()
    await ended
    socket.destroy()
    // The node still serves streams to clients that read.
    const res = await fetch(`${node.apiUrl}/v1/tasks/${taskId}/events`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    await res.body?.cancel()
  })

  test('a reconnect with Last-Event-ID resumes after the last event seen, on a task stream and on /v1/events', async () => {
    const { node, token, taskId } = await setUp()
    const headers = { authorization: `Bearer ${token}` }
    const events = node.taskService.events
    const own = events.subscribers // the node's own listeners (its stats history)
    const first = await fetch(`${node.apiUrl}/v1/tasks/${taskId}/events`, { headers })
    const firstPart = readSse(first, 4) // the current state, then 3 lines
    await waitFor(() => events.watched(taskId))
    await pump(node, 3, i => logLine(taskId, `line ${i}`))
    const seen = await firstPart
    expect(seen.map(e => e.event)).toEqual(['state', 'log', 'log', 'log'])
    expect(seen[0].id).toBeUndefined() // the current state is not an event with an id
    await pump(node, 2, i => logLine(taskId, `line ${i + 3}`)) // missed while away
    const again = await fetch(`${node.apiUrl}/v1/tasks/${taskId}/events`, { headers: { ...headers, 'last-event-id': seen[2].id! } })
    const resumed = await readSse(again, 4)
    expect(resumed[0].event).toBe('state')
    expect(resumed.slice(1).map(e => JSON.parse(e.data).line)).toEqual(['line 2', 'line 3', 'line 4'])

    // /v1/events: the state changes after the id, those still held.
    const view = await node.tasks.get(taskId)
    const all = await fetch(`${node.apiUrl}/v1/events`, { headers })
    const allPart = readSse(all, 1)
    await waitFor(() => events.subscribers === own + 1)
    await pump(node, 1, () => ({ type: 'state', task: { ...view, priority: 1 } }))
    const [seenState] = await allPart
    await waitFor(() => events.subscribers === own)
    await pump(node, 2, i => ({ type: 'state', task: { ...view, priority: 2 + i } }))
    const allAgain = await fetch(`${node.apiUrl}/v1/events`, { headers: { ...headers, 'last-event-id': seenState.id! } })
    expect((await readSse(allAgain, 2)).map(e => JSON.parse(e.data).priority)).toEqual([2, 3])
  })

  test('500 clients that never read: the node drops them, its memory stays bounded, and it keeps answering', async () => {
    const { node, token, taskId } = await setUp()
    const events = node.taskService.events
    const view = await node.tasks.get(taskId)
    const own = events.subscribers // the node's own listeners (its stats history)
    const sockets = Array.from({ length: 500 }, () => silentClient(node, token, '/v1/events'))
    try {
      await waitFor(() => events.subscribers === own + 500)
      collectGarbage()
      const before = held()
      // 1200 state changes of ~256 KB each (~300 MB): the first ~16 fill each client's kernel
      // buffers (~4 MB a socket); a node that kept the rest for clients that do not read would
      // hold all of it (an event's bytes are shared by the streams that send it).
      const padding = 'p'.repeat(256 * 1024)
      await pump(node, 1200, i => ({ type: 'state', task: { ...view, priority: i % 10, spec: { padding: `${i}${padding}` } } }))
      await waitFor(() => events.subscribers === own)
      // What the process still holds once garbage is collected (the test's own 300 MB of events
      // included): an RSS reading would count pages a busy machine's GC has not returned yet.
      collectGarbage()
      const grewMb = (held() - before) / 2 ** 20
      // Bounded: 64 KiB waits per client at most (500 x 64 KiB = 32 MiB), plus the '*' resume
      // backlog (16 MiB); a node that kept what the clients did not read would hold ~300 MB.
      expect(grewMb).toBeLessThan(100)
      const health = await fetch(`${node.apiUrl}/v1/health`)
      expect(health.status).toBe(200)
      const list = await fetch(`${node.apiUrl}/v1/tasks`, { headers: { authorization: `Bearer ${token}` } })
      expect((await list.json() as { tasks: unknown[] }).tasks.length).toBeGreaterThan(0)
    } finally {
      for (const socket of sockets) socket.destroy()
    }
  })
})
