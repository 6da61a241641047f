import { afterAll, afterEach, describe, expect, test, vi } from 'vitest'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TaskViewT } from '../../protocols/task.js'
import { SseParser } from '../../node/cli/sse.js'
import { submitBody, submitOperands, type SubmitFlags } from '../../node/cli/commands/task-body.js'
import { blockedText, endNote, formatTaskStatus, formatTaskTable, isSettled, progressKey, progressLine, resultSummary, taskExitCode } from '../../node/cli/commands/task-format.js'
import { followTask } from '../../node/cli/commands/task-follow.js'
import { waitForTask } from '../../node/cli/commands/tasks.js'
import type { LocalNode } from '../../node/cli/client.js'

const PEER = '12D3KooWRaSpTcebRFw1QcozU4abHvLDKQC8Gp2qvWcwQjSX8x1Q'
const view = (over: Partial<TaskViewT> = {}): TaskViewT => ({
  id: 'task-0001', kind: 'exec', state: 'pending', priority: 5, submittedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:01.000Z',
  auctioneer: PEER, requirements: { cpus: 1, memoryMb: 512, gpu: null }, attempts: [], ...over,
})
const attempt = { attempt: 1, node: PEER, awardedAt: '2026-01-01T00:00:00.100Z', startedAt: '2026-01-01T00:00:00.200Z' }
const result = (r: Record<string, unknown>): Record<string, unknown> => ({ exitCode: 0, signal: null, timedOut: false, limitHit: null, stdout: '', stderr: '', stdoutTruncated: false, stderrTruncated: false, files: [], usage: { wallMs: 10, cpuMs: null, peakMemoryMb: null }, ...r })
const impossible: TaskViewT['blocked'] = { verdict: 'impossible', nodes: 1, at: '2026-01-01T00:00:00.000Z', reasons: [{ check: 'memory', fit: 'never', reason: 'needs 99999999 MB memory', nodes: 1 }] }

describe('SSE parser', () => {
  test('events split anywhere across chunks, CRLF, comments and multi-line data', () => {
    const text = ': keepalive\r\n\r\nevent: state\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: end\ndata: {"state":"failed"}\n\ndata: plain\n\n'
    for (const size of [1, 2, 3, 7, text.length]) {
      const parser = new SseParser()
      const events = []
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)))
      expect(events).toEqual([{ event: 'state', data: '{"a":\n1}' }, { event: 'end', data: '{"state":"failed"}' }, { event: 'message', data: 'plain' }])
    }
  })
})

describe('submit body from the command line', () => {
  const files: Record<string, string> = { 'local.txt': 'local content', 'task.json': JSON.stringify({ kind: 'exec', command: ['a'], priority: 1, requirements: { labels: ['x'], cpus: 2 }, files: { 'k.txt': 'k' } }) }
  const readers = {
    readFile: async (path: string) => { if (files[path] === undefined) throw Object.assign(new Error('no'), { code: 'ENOENT' }); return files[path] },
    readStdin: async () => JSON.stringify({ kind: 'noop' }),
  }
  const body = async (words: string[], operands: string[], flags: SubmitFlags): Promise<Record<string, unknown>> => submitBody(submitOperands(operands, words), flags, readers)

  test('a command after -- with every flag', async () => {
    const flags: SubmitFlags = { priority: '9', cpus: '2', memoryMb: '256', gpuVramMb: '8000', label: ['a', 'b'], arch: 'x64', timeoutMs: '500', file: ['in.txt=@local.txt', 'note.txt=hi=there'], collect: ['*.out'], env: ['A=1'], replicated: true }
    expect(await body(['submit', '--', 'sh', '-c', 'x'], ['sh', '-c', 'x'], flags)).toEqual({
      kind: 'exec', command: ['sh', '-c', 'x'], priority: 9,
      requirements: { cpus: 2, memoryMb: 256, gpu: { count: 1, minVramMb: 8000 }, arch: 'x64', labels: ['a', 'b'] },
      limits: { timeoutMs: 500 }, durability: 'replicated', files: { 'in.txt': 'local content', 'note.txt': 'hi=there' }, env: { A: '1' }, collect: ['*.out'],
    })
  })

  test('--noop, a JSON file whose fields flags override or extend, and stdin', async () => {
    expect(await body(['submit', '--noop'], [], { noop: true })).toEqual({ kind: 'noop' })
    expect(await body(['submit', 'task.json'], ['task.json'], { priority: '3', label: ['y'] })).toEqual({
      kind: 'exec', command: ['a'], priority: 3, requirements: { labels: ['x', 'y'], cpus: 2 }, files: { 'k.txt': 'k' },
    })
    expect(await body(['submit', '-'], ['-'], {})).toEqual({ kind: 'noop' })
  })

  test('every bad flag is listed at once as a UsageError', async () => {
    const err = await body(['submit', 'task.json', '--', 'x'], ['task.json', 'x'], { priority: '10', cpus: '1.5', gpu: '0', file: ['nothing', 'a=@missing'] }).catch((e: unknown) => e) as { name: string, details: string[] }
    expect(err.name).toBe('UsageError')
    expect(err.details).toHaveLength(6) // both sources, priority, cpus, gpu, the two --file
    const bad: Array<[string[], string[], SubmitFlags]> = [[['submit'], [], {}], [['submit', 'a', 'b'], ['a', 'b'], {}], [['submit', '--', 'x'], ['x'], { noop: true }], [['submit', '--noop'], [], { noop: true, file: ['a=b'] }]]
    for (const [words, operands, flags] of bad) {
      await expect(body(words, operands, flags)).rejects.toMatchObject({ name: 'UsageError' })
    }
  })
})

describe('task views', () => {
  test('exit codes', () => {
    expect(taskExitCode(view({ state: 'succeeded' }))).toBe(0)
    expect(taskExitCode(view({ state: 'failed', result: result({ exitCode: 7 }) }))).toBe(7)
    expect(taskExitCode(view({ state: 'failed', result: result({ exitCode: null, timedOut: true }) }))).toBe(1)
    expect(taskExitCode(view({ state: 'failed', result: result({ exitCode: 137, limitHit: 'memory' }) }))).toBe(1)
    expect(taskExitCode(view({ state: 'failed', result: result({ exitCode: null, signal: 'SIGKILL' }) }))).toBe(1)
    expect(taskExitCode(view({ state: 'failed', error: 'gave up after 3 attempts' }))).toBe(1)
    expect(taskExitCode(view({ state: 'cancelled' }))).toBe(130)
    expect(taskExitCode(view({ blocked: impossible }))).toBe(3)
    expect(endNote(view({ state: 'failed', result: result({ exitCode: 7 }) }))).toBeUndefined() // the exit code says it
    expect(endNote(view({ state: 'failed', error: 'timed out', result: result({ exitCode: null, timedOut: true }) }))).toContain('timed out')
    expect(endNote(view({ state: 'cancelled', error: 'cancelled: by user' }))).toBe('task task-0001 cancelled: by user')
    expect(isSettled(view({ blocked: { ...impossible, verdict: 'wait' } }))).toBe(false)
    expect(isSettled(view({ state: 'running', blocked: impossible }))).toBe(false)
  })

  test('status, table, progress and blocked reasons show the facts', () => {
    const failed = view({ state: 'failed', attempts: [{ ...attempt, outcome: 'failed', error: 'exit code 7' }], error: 'exit code 7', result: result({ exitCode: 7, stdout: 'hi\n', stdoutBlob: { digest: 'd'.repeat(64), size: 40_000 } }) })
    const status = formatTaskStatus(failed, Date.parse('2026-01-01T00:01:00Z'))
    for (const fact of ['task-0001', 'failed', 'exit code 7', '#1']) expect(status).toContain(fact)
    expect(resultSummary(failed)).toContain('39.1 KiB') // the whole stdout's size, from its blob
    expect(formatTaskStatus(view({ blocked: impossible }))).toContain('needs 99999999 MB memory')
    expect(formatTaskTable([failed, view({ id: 'task-0002' })]).split('\n')).toHaveLength(3)
    expect(blockedText(view({ blocked: impossible })).split('\n')).toHaveLength(2)
    expect(progressKey(view())).not.toBe(progressKey(view({ state: 'running', attempts: [attempt] })))
    expect(progressLine(view({ state: 'running', attempts: [attempt] }), 1500)).toContain('1.5s')
  })

  test('a build shows its checkpoints and reserves nothing itself', () => {
    const build = view({ kind: 'build', requirements: { cpus: 0, memoryMb: 0, gpu: null }, checkpoints: [
      { step: 1, attempt: 1, node: PEER, at: '2026-01-01T00:00:01.000Z', basedOn: null, files: { 'main.py': { digest: 'a'.repeat(64), size: 10 } }, summary: { tests: { passed: 2, failed: 1, errored: 0 }, decision: { action: 'repair', reason: '1 test failed' } } },
      { step: 2, attempt: 1, node: PEER, at: '2026-01-01T00:00:02.000Z', basedOn: 1, files: {}, summary: { tests: null } },
    ] })
    const status = formatTaskStatus(build, Date.now(), new Map([[PEER, 'box']]))
    expect(status).toContain('step 1 on box: tests 2 passed, 1 failed, 1 file; repair: 1 test failed')
    expect(status).toContain('step 2 on box (from step 1): no test report, 0 files')
    expect(status).toContain('nothing itself')
    expect(status).not.toContain('0 cpu')
  })

  test('nodes are shown by name where the mesh knows it', () => {
    const names = new Map([[PEER, 'gpu-box']])
    const running = view({ state: 'running', attempts: [attempt] })
    expect(progressLine(running, 1500, names)).toContain('on gpu-box')
    expect(formatTaskStatus(running, Date.now(), names)).toMatch(/#1 gpu-box open/)
    expect(formatTaskStatus(running, Date.now(), names)).toMatch(/auctioneer\s+gpu-box/)
    expect(formatTaskTable([running], Date.now(), names)).toContain('gpu-box')
    expect(progressLine(running, 1500)).not.toContain('gpu-box') // unknown names: the shortened id
  })
})

/** A fake node API: each route's handler is set per test. */
type Handler = (req: IncomingMessage, res: ServerResponse) => void
let routes: Record<string, Handler> = {}
const server = createServer((req, res) => {
  const handler = routes[`${req.method ?? ''} ${req.url ?? ''}`]
  if (handler === undefined) { res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { name: 'NotFoundError', message: 'no such task' } })); return }
  handler(req, res)
})
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
const local: LocalNode = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' }
afterAll(async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) })
afterEach(() => { routes = {}; vi.restoreAllMocks() })

const sse = (res: ServerResponse, events: Array<[string, unknown]>, end: boolean): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  for (const [name, data] of events) res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)
  if (end) res.end()
}
const json = (value: unknown): Handler => (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value)) }
const fast = { pollMs: { min: 10, max: 40 }, recheckMs: 60_000 }

describe('following a task', () => {
  test('by its events until `end`; log and progress events are passed on', async () => {
    const done = view({ state: 'succeeded', attempts: [{ ...attempt, outcome: 'succeeded' }] })
    routes['GET /v1/tasks/task-0001/events'] = (_req, res) => { sse(res, [['state', view()], ['log', { task: 'task-0001', stream: 'worker', line: 'info: hi' }], ['progress', { task: 'task-0001', stage: 'attempt 1: test', done: 3, total: 4 }], ['state', done], ['end', { state: 'succeeded' }]], true) }
    const states: string[] = []
    const logs: string[] = []
    const stages: string[] = []
    const last = await followTask(local, 'task-0001', { signal: AbortSignal.timeout(5000), onState: v => states.push(v.state), onLog: l => logs.push(l.line), onProgress: p => stages.push(`${p.stage} ${p.done}/${p.total}`), ...fast })
    expect(last.state).toBe('succeeded')
    expect(states).toEqual(['pending', 'succeeded'])
    expect(logs).toEqual(['info: hi'])
    expect(stages).toEqual(['attempt 1: test 3/4'])
  })

  test('a stream that breaks, fails or goes silent falls back to polling', async () => {
    let polls = 0
    routes['GET /v1/tasks/task-0001'] = (req, res) => { json(++polls < 3 ? view({ state: 'running' }) : view({ state: 'cancelled' }))(req, res) }
    routes['GET /v1/tasks/task-0001/events'] = (_req, res) => { sse(res, [['state', view()]], false); res.destroy() }
    expect((await followTask(local, 'task-0001', { signal: AbortSignal.timeout(5000), ...fast })).state).toBe('cancelled')
    polls = 0
    routes['GET /v1/tasks/task-0001/events'] = (_req, res) => { res.writeHead(503).end() }
    expect((await followTask(local, 'task-0001', { signal: AbortSignal.timeout(5000), ...fast })).state).toBe('cancelled')
    polls = 0
    routes['GET /v1/tasks/task-0001/events'] = (_req, res) => { sse(res, [['state', view()]], false) } // then nothing, not even keepalives
    expect((await followTask(local, 'task-0001', { signal: AbortSignal.timeout(5000), ...fast, idleMs: 100 })).state).toBe('cancelled')
  })

  test('a missed `end` is caught by the recheck; impossible settles it; an unknown task is an error', async () => {
    routes['GET /v1/tasks/task-0001/events'] = (_req, res) => { sse(res, [['state', view()]], false) }
    routes['GET /v1/tasks/task-0001'] = json(view({ state: 'succeeded' }))
    expect((await followTask(local, 'task-0001', { signal: AbortSignal.timeout(5000), ...fast, recheckMs: 50 })).state).toBe('succeeded')
    routes['GET /v1/tasks/task-0001/events'] = (_req, res) => { sse(res, [['state', view({ blocked: impossible })]], false) }
    expect((await followTask(local, 'task-0001', { signal: AbortSignal.timeout(5000), ...fast })).blocked?.verdict).toBe('impossible')
    await expect(followTask(local, 'task-0404', { signal: AbortSignal.timeout(5000), ...fast })).rejects.toMatchObject({ name: 'ApiError', status: 404 })
  })

  test('waiting prints the whole output from the blob store and exits with the task\'s code', async () => {
    const full = 'x'.repeat(20_000) + 'END\n'
    const digest = 'a'.repeat(64)
    const failed = view({ state: 'failed', attempts: [{ ...attempt, outcome: 'failed' }], result: result({ exitCode: 42, stdout: full.slice(0, 16_384), stdoutBlob: { digest, size: full.length } }) })
    routes['GET /v1/tasks/task-0001/events'] = (_req, res) => { sse(res, [['state', failed], ['end', { state: 'failed' }]], true) }
    routes[`GET /v1/blobs/${digest}`] = (_req, res) => { res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(full) }
    let stdout = ''
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { stdout += String(chunk); return true })
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    expect(await waitForTask(local, 'task-0001', {})).toBe(42)
    expect(stdout).toBe(full)
  })
})
