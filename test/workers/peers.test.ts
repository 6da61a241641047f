/**
 * Who may join and what the broker accepts: raw DEALER sockets stand in for broken or hostile
 * workers (wrong token, garbage after a valid HELLO); runWorker in this process and
 * worker-main started by hand stand in for external workers (a GPU container, say).
 */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { Dealer } from 'zeromq'
import { decodeBrokerFrame, encodeWorkerMessage, WORKER_PROTOCOL_VERSION, type BrokerMessage } from '../../protocols/worker.js'
import { runWorker, workerTokenPath, type WorkerPool } from '../../workers/index.js'
import { cleanUp, startPool, waitUntil } from './helpers.js'

const WORKER_MAIN = fileURLToPath(new URL('../../workers/worker-main.ts', import.meta.url))

let pool: WorkerPool
let dataDir: string
let endpoint: string
let token: string
const sockets: Dealer[] = []

beforeAll(async () => {
  ({ pool, dataDir } = await startPool({ kinds: { exec: { size: 1 }, model: { size: 0 } }, maxMessageBytes: 1024 * 1024 }))
  endpoint = pool.stats().endpoint
  token = (await readFile(workerTokenPath(dataDir), 'utf8')).trim()
})
afterAll(async () => {
  for (const socket of sockets) socket.close()
  await cleanUp()
})

function rawDealer (): Dealer {
  const socket = new Dealer({ linger: 0, receiveTimeout: 300 })
  socket.connect(endpoint)
  sockets.push(socket)
  return socket
}

/** Every message the socket receives until it has been quiet for the receive timeout. */
async function drain (socket: Dealer): Promise<BrokerMessage[]> {
  const messages: BrokerMessage[] = []
  for (let i = 0; i < 10_000; i++) {
    try {
      const frames = await socket.receive()
      for (const frame of frames) messages.push(...decodeBrokerFrame(frame))
    } catch {
      return messages
    }
  }
  return messages
}

const hello = (withToken: string, kind = 'exec'): string =>
  encodeWorkerMessage({ t: 'hello', v: WORKER_PROTOCOL_VERSION, kind: kind as 'exec', token: withToken, pid: process.pid, handlers: ['echo'] })

test('a worker with a wrong token cannot join and never receives a task', async () => {
  const intruder = rawDealer()
  await intruder.send(hello('x'.repeat(43)))
  await intruder.send(encodeWorkerMessage({ t: 'ready', slots: 64 }))
  await expect(Promise.all(Array.from({ length: 50 }, async (_, i) => await pool.submit('exec', { type: 'echo', input: i })))).resolves.toHaveLength(50)
  const received = await drain(intruder)
  expect(received.map(m => m.t)).not.toContain('task')
  expect(received).toContainEqual({ t: 'bye', reason: 'unauthorized' })
  expect(pool.stats().frames.unauthorized).toBeGreaterThanOrEqual(1)
  expect(pool.stats().kinds.exec.workers).toBe(1)

  await expect(runWorker({ endpoint, kind: 'exec', token: 'y'.repeat(43), signal: AbortSignal.timeout(10_000) }))
    .rejects.toMatchObject({ name: 'WorkerRejectedError' })
})

test('a worker of the previous protocol version (one message per frame) is told so and never receives a task', async () => {
  const old = rawDealer()
  await old.send(encodeWorkerMessage({ t: 'hello', v: WORKER_PROTOCOL_VERSION - 1, kind: 'exec', token, pid: process.pid, handlers: ['echo'] }))
  await old.send(encodeWorkerMessage({ t: 'ready', slots: 64 }))
  await expect(Promise.all(Array.from({ length: 20 }, async (_, i) => await pool.submit('exec', { type: 'echo', input: i })))).resolves.toHaveLength(20)
  const received = await drain(old)
  expect(received).toContainEqual({ t: 'bye', reason: 'version' })
  expect(received.map(m => m.t)).not.toContain('task')
  expect(received.map(m => m.t)).not.toContain('welcome')
})

test('malformed frames after a valid HELLO are rejected and counted; the broker serves on', async () => {
  const broken = rawDealer()
  await broken.send(hello(token))
  expect((await drain(broken))[0]).toMatchObject({ t: 'welcome' })
  const before = pool.stats().frames.malformedFrames
  const garbage: Array<string | Buffer | Array<string | Buffer>> = [
    Buffer.from([0xff, 0xfe, 0x00]),
    '{"t":"result"',
    '[1,2,3]',
    'null',
    '{"t":"launch-missiles"}',
    encodeWorkerMessage({ t: 'ready', slots: 1 }).replace('"slots":1', '"slots":-5'),
    '{"t":"result","task":1,"ok":true}',
    '{"t":"heartbeat","running":0,"extra":true}',
    Array.from({ length: 300 }, () => '{"t":"heartbeat","running":0}'),
  ]
  for (const message of garbage) await broken.send(message)
  // A well-formed result for a task this worker was never given changes nothing.
  await broken.send(encodeWorkerMessage({ t: 'result', task: 999_999, ok: true, value: 'forged' }))
  await waitUntil(() => pool.stats().frames.malformedFrames - before >= 9, 5000, 'frames counted')
  expect(pool.stats().frames.malformedFrames - before).toBe(9)
  expect(pool.stats().frames.unexpectedResults).toBeGreaterThanOrEqual(1)
  expect(pool.workers().find(w => !w.spawned && w.state === 'joined')?.malformedFrames).toBe(9)
  await expect(pool.submit('exec', { type: 'echo', input: 'still here' })).resolves.toBe('still here')
  expect(pool.stats().state).toBe('running')
})

test('an external worker joins with the token, serves its kind, and its leaving is noticed', async () => {
  await expect(pool.submit('model', { type: 'shout', input: 'x' })).rejects.toMatchObject({ name: 'NoWorkersError', retryable: true })
  const controller = new AbortController()
  const worker = runWorker({
    endpoint, kind: 'model', token, signal: controller.signal, slots: 2,
    handlers: { shout: async input => String(input).toUpperCase() },
  })
  await waitUntil(() => pool.stats().kinds.model.workers === 1, 10_000, 'external worker ready')
  expect(pool.stats().kinds.model).toMatchObject({ external: 1, capacity: 2, size: 0 })
  await expect(pool.submit('model', { type: 'shout', input: 'hi' })).resolves.toBe('HI')
  controller.abort()
  await worker
  await waitUntil(() => pool.stats().kinds.model.workers === 0, 5000, 'external worker dropped')
  await expect(pool.submit('model', { type: 'shout', input: 'x' })).rejects.toMatchObject({ name: 'NoWorkersError' })
})

test('worker-main started by hand joins with the data dir token and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN, '--kind', 'exec', '--data-dir', dataDir, '--slots', '4'], { stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  try {
    await waitUntil(() => pool.stats().kinds.exec.external === 1, 15_000, 'worker-main joined')
    expect(pool.workers().find(w => !w.spawned && w.state === 'ready')).toMatchObject({ kind: 'exec', pid: child.pid, slots: 4 })
    const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => await pool.submit('exec', { type: 'echo', input: i })))
    expect(results).toHaveLength(40)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})
