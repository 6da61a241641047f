/** The pool's small pure parts: options, endpoints, the token, worker output, the frame sender, the task table, stats. */
import { mkdtemp, rm, stat, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { once } from 'node:events'
import { afterAll, describe, expect, test } from 'vitest'
import { endpointProblems, ipcEndpoint, isLoopbackEndpoint } from '../../workers/endpoint.js'
import { BATCH_MAX_CHARS, FrameSender } from '../../workers/frame-sender.js'
import { WORKER_FRAME_MAX_MESSAGES } from '../../protocols/worker.js'
import { handlerRegistry } from '../../workers/handlers.js'
import { LazyAbort } from '../../workers/lazy-abort.js'
import { resolvePoolOptions } from '../../workers/options.js'
import { forEachLine, parseWorkerLine } from '../../workers/output.js'
import { TaskTable } from '../../workers/tasks.js'
import { loadOrCreateWorkerToken, readWorkerToken, tokensMatch, workerTokenPath } from '../../workers/token.js'

const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async d => await rm(d, { recursive: true, force: true }))) })
const TOKEN = 'k'.repeat(43)

describe('options', () => {
  test('defaults: exec one worker per physical core, model none, one slot each', () => {
    const options = resolvePoolOptions({ dataDir: '/tmp/d' }, 6)
    expect(options).toMatchObject({
      endpoint: 'ipc:///tmp/d/workers.sock', loopback: true, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 10_000,
      plans: { exec: { size: 6, slots: 1, handlerModules: [] }, model: { size: 0, slots: 1 } },
    })
    expect(Object.isFrozen(options)).toBe(true)
  })

  test('every problem is reported at once', () => {
    let problems: string[] = []
    try {
      resolvePoolOptions({ token: 'short', kinds: { exec: { size: -1, slots: 0, extra: 1 } as never, gpu: {} } as never, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 1500 }, 2)
    } catch (err) {
      expect((err as Error).name).toBe('WorkerPoolConfigError')
      problems = (err as { problems: string[] }).problems
    }
    expect(problems).toHaveLength(7)
  })

  test.each([
    ['ipc:///run/g/workers.sock', []],
    ['tcp://127.0.0.1:0', []],
    ['tcp://[::1]:5555', []],
    ['ipc://relative.sock', 1],
    ['tcp://127.0.0.1', 1],
    ['tcp://127.0.0.1:70000', 1],
    ['http://127.0.0.1:80', 1],
    [`ipc:///${'x'.repeat(120)}`, 1],
  ])('endpoint %s', (endpoint, problems) => {
    expect(endpointProblems(endpoint)).toHaveLength(Array.isArray(problems) ? 0 : problems)
  })

  test('loopback endpoints, and data dirs too long for a socket path', () => {
    expect(isLoopbackEndpoint('tcp://127.0.0.1:1')).toBe(true)
    expect(isLoopbackEndpoint('tcp://0.0.0.0:1')).toBe(false)
    expect(isLoopbackEndpoint('ipc:///x')).toBe(true)
    expect(() => ipcEndpoint(`/${'d'.repeat(110)}`)).toThrow(expect.objectContaining({ name: 'WorkerPoolConfigError' }))
  })

  test('handler registries: built-ins per kind; extras may add, never replace', () => {
    expect([...handlerRegistry('exec').keys()]).toEqual(['sandbox', 'echo'])
    expect([...handlerRegistry('model').keys()]).toEqual(['generate', 'embed', 'status'])
    expect([...handlerRegistry('model', { 'chat.complete': async () => 1 }).keys()]).toEqual(['generate', 'embed', 'status', 'chat.complete'])
    expect(() => handlerRegistry('model', { generate: async () => 1 })).toThrow(/built into/)
    expect(() => handlerRegistry('exec', { echo: async () => 1 })).toThrow(/built into/)
    expect(() => handlerRegistry('exec', { 'Bad Name': async () => 1 })).toThrow(/must match/)
  })
})

describe('the worker token', () => {
  test('created 0600 once, then read back; compared whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-token-'))
    dirs.push(dir)
    const token = await loadOrCreateWorkerToken(dir)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await stat(workerTokenPath(dir))).mode & 0o777).toBe(0o600)
    expect(await loadOrCreateWorkerToken(dir)).toBe(token)
    expect(tokensMatch(token, token)).toBe(true)
    expect(tokensMatch(token.slice(0, -1), token)).toBe(false)
    expect(tokensMatch(token + 'x', token)).toBe(false)
    expect(tokensMatch('', token)).toBe(false)
  })

  test('a corrupt or world-readable token file is an error, a missing one undefined', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-token-'))
    dirs.push(dir)
    const path = join(dir, 'worker-token')
    expect(await readWorkerToken(path)).toBeUndefined()
    await writeFile(path, 'not a token!\n', { mode: 0o600 })
    await expect(readWorkerToken(path)).rejects.toMatchObject({ name: 'DataDirError' })
    await writeFile(path, TOKEN + '\n')
    await chmod(path, 0o644)
    await expect(readWorkerToken(path)).rejects.toMatchObject({ name: 'DataDirError' })
  })
})

describe('worker output', () => {
  test.each([
    ['{"level":30,"time":1,"pid":2,"hostname":"h","msg":"joined","kind":"exec"}', { level: 'info', message: 'joined', fields: { kind: 'exec' } }],
    ['{"level":50,"msg":"bad"}', { level: 'error', message: 'bad', fields: {} }],
    ['{"level":20}', { level: 'debug', message: '', fields: {} }],
    ['plain text', { level: 'info', message: 'worker output', fields: { line: 'plain text' } }],
    ['{not json', { level: 'info', message: 'worker output', fields: { line: '{not json' } }],
  ])('%s', (line, expected) => {
    expect(parseWorkerLine(line)).toEqual(expected)
  })

  test('lines are split across chunks and bounded', async () => {
    const stream = new PassThrough()
    const lines: string[] = []
    forEachLine(stream, line => lines.push(line))
    stream.write('a\nb')
    stream.write('c\n' + 'x'.repeat(40_000))
    stream.write('y\nlast')
    stream.end()
    await once(stream, 'end')
    expect(lines.map(l => l.length > 100 ? `long:${l.length}` : l)).toEqual(['a', 'bc', 'long:16384', 'last'])
  })
})

describe('the frame sender', () => {
  test('one send at a time; each peer\'s messages in order, batched into frames', async () => {
    const sent: Array<Array<string | Buffer>> = []
    let pending = 0
    const socket = {
      send: async (message: Array<string | Buffer>) => {
        if (++pending > 1) throw new Error('EBUSY')
        sent.push(message)
        await new Promise(resolve => setImmediate(resolve))
        pending--
      },
    }
    const sender = new FrameSender(socket, () => {})
    const a = Buffer.from('a')
    const b = Buffer.from('b')
    const m = (n: number | string): string => JSON.stringify({ t: 'cancel', task: n })
    // Adjacent messages alternate peers, as the broker's LRU dispatch makes them.
    sender.send(a, m(1))
    sender.send(b, m(2))
    sender.send(a, m(3))
    sender.send(Buffer.from('b'), m(4)) // another Buffer for the same peer
    const long = JSON.stringify({ t: 'cancel', task: 5, pad: 'x'.repeat(BATCH_MAX_CHARS) })
    sender.send(a, long)
    sender.send(a, m(6))
    expect(sender.pending).toBe(7)
    await sender.flushed()
    const decoded = sent.map(([route, ...frames]) => [String(route), ...frames.map(f => JSON.parse(String(f)) as unknown)])
    expect(decoded).toEqual([
      ['a', [{ t: 'cancel', task: 1 }, { t: 'cancel', task: 3 }], JSON.parse(long), { t: 'cancel', task: 6 }],
      ['b', [{ t: 'cancel', task: 2 }, { t: 'cancel', task: 4 }]],
    ])
    expect(sender.pending).toBe(0)

    // Over WORKER_FRAME_MAX_MESSAGES: several batch frames, still in order.
    sent.length = 0
    for (let i = 1; i <= WORKER_FRAME_MAX_MESSAGES + 2; i++) sender.send(null, m(i))
    await sender.flushed()
    expect(sent).toHaveLength(1)
    const batches = sent[0].map(f => JSON.parse(String(f)) as Array<{ task: number }>)
    expect(batches.map(f => f.length)).toEqual([WORKER_FRAME_MAX_MESSAGES, 2])
    expect(batches.flat().map(x => x.task)).toEqual(Array.from({ length: WORKER_FRAME_MAX_MESSAGES + 2 }, (_, i) => i + 1))
  })

  test('what is queued while a send is pending goes out after it, in order', async () => {
    const sent: string[][] = []
    let release: (() => void) | undefined
    const sender = new FrameSender({
      send: async message => {
        sent.push(message.map(String))
        if (sent.length === 1) await new Promise<void>(resolve => { release = resolve })
      },
    }, () => {})
    sender.send(null, '{"n":1}')
    await new Promise(resolve => setImmediate(resolve))
    sender.send(null, '{"n":2}')
    sender.send(null, '{"n":3}')
    await new Promise(resolve => setImmediate(resolve))
    expect(sent).toEqual([['{"n":1}']])
    release?.()
    await sender.flushed()
    expect(sent).toEqual([['{"n":1}'], ['[{"n":2},{"n":3}]']])
  })

  test('a failed send is reported and the rest still go', async () => {
    const failures: unknown[] = []
    const sent: string[] = []
    const sender = new FrameSender({
      send: async message => {
        if (String(message[0]) === 'bad') throw new Error('EHOSTUNREACH')
        sent.push(String(message[1]))
      },
    }, (route, err) => failures.push([String(route), (err as Error).message]))
    sender.send(Buffer.from('bad'), 'x')
    sender.send(Buffer.from('good'), 'y')
    await sender.flushed()
    expect(failures).toEqual([['bad', 'EHOSTUNREACH']])
    expect(sent).toEqual(['y'])
  })
})

describe('the lazy cancel switch', () => {
  test('no signal is made until asked for; a cancel before that is not lost', () => {
    const early = new LazyAbort()
    const reason = new Error('cancelled')
    early.abort(reason)
    early.abort(new Error('second'))
    expect(early.aborted).toBe(true)
    expect(early.signal.aborted).toBe(true)
    expect(early.signal.reason).toBe(reason)

    const late = new LazyAbort()
    const signal = late.signal
    expect(signal.aborted).toBe(false)
    late.abort(reason)
    expect(signal.aborted).toBe(true)
    expect(late.signal).toBe(signal)
  })
})

describe('the task table', () => {
  test('a task settles exactly once; later outcomes change nothing', async () => {
    const table = new TaskTable()
    const { record, promise } = table.create('exec', { type: 'echo', input: 1 }, {}, 1 << 20, () => {})
    expect(JSON.parse(record.frame)).toEqual({ t: 'task', task: record.id, type: 'echo', input: 1 })
    expect(table.settle(record.id, { ok: true, value: 'first' })).toBe(true)
    expect(table.settle(record.id, { ok: true, value: 'second' })).toBe(false)
    expect(table.settle(record.id, { ok: false, error: new Error('late'), lost: true })).toBe(false)
    await expect(promise).resolves.toBe('first')
    expect(table.counters('exec')).toEqual({ completed: 1, failed: 0, cancelled: 0, lost: 0 })
    expect(await table.whenEmpty(10)).toBe(true)
  })

  test('an aborted task ends with AbortedError whatever the worker answered', async () => {
    const table = new TaskTable()
    const controller = new AbortController()
    const aborted: number[] = []
    const { record, promise } = table.create('model', { type: 'x' }, { signal: controller.signal }, 1 << 20, id => aborted.push(id))
    controller.abort()
    expect(aborted).toEqual([record.id])
    table.settle(record.id, { ok: true, value: 'done anyway' })
    await expect(promise).rejects.toMatchObject({ name: 'AbortedError' })
    expect(table.counters('model').cancelled).toBe(1)
  })

  test('input that is not JSON or too large fails the submit', () => {
    const table = new TaskTable()
    expect(() => table.create('exec', { type: 'echo', input: { n: 1n } }, {}, 1 << 20, () => {})).toThrow(expect.objectContaining({ name: 'InvalidTaskDataError' }))
    expect(() => table.create('exec', { type: 'echo', input: 'x'.repeat(2000) }, {}, 1000, () => {})).toThrow(/exceeds/)
    expect(table.size).toBe(0)
  })

  test('whenEmpty times out while tasks remain', async () => {
    const table = new TaskTable()
    const { record } = table.create('exec', { type: 'echo' }, {}, 1 << 20, () => {})
    expect(await table.whenEmpty(20)).toBe(false)
    const empty = table.whenEmpty(5000)
    table.settle(record.id, { ok: true, value: null })
    expect(await empty).toBe(true)
  })
})
