/** The worker wire format, table-driven: what each side accepts and refuses, and errors across it. */
import { describe, expect, test } from 'vitest'
import { AbortedError } from '../../base/index.js'
import {
  checkSandboxResultValue, decodeBrokerFrame, decodeWorkerFrame, encodeWorkerBatch, encodeWorkerMessage,
  WORKER_FRAME_MAX_MESSAGES, WORKER_PROTOCOL_VERSION,
} from '../../protocols/worker.js'
import { InvalidSandboxSpecError } from '../../sandbox/index.js'
import { TaskFailedError, UnsupportedTaskError, WorkerLostError } from '../../workers/errors.js'
import { fromWireError, toWireError } from '../../workers/wire-errors.js'

const bytes = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))
const TOKEN = 't'.repeat(43)

describe('frames from workers', () => {
  test.each([
    ['hello', { t: 'hello', v: WORKER_PROTOCOL_VERSION, kind: 'exec', token: TOKEN, pid: 7, handlers: ['sandbox', 'echo'] }],
    ['hello of a spawned worker', { t: 'hello', v: WORKER_PROTOCOL_VERSION, kind: 'model', token: TOKEN, workerId: 'model-1', pid: 7, handlers: [] }],
    ['hello of a later version (refused by the broker, not the schema)', { t: 'hello', v: WORKER_PROTOCOL_VERSION + 1, kind: 'exec', token: TOKEN, pid: 7, handlers: [] }],
    ['ready', { t: 'ready', slots: 4 }],
    ['result', { t: 'result', task: 1, ok: true, value: { any: ['json'] } }],
    ['null result', { t: 'result', task: 1, ok: true, value: null }],
    ['error result', { t: 'result', task: 2, ok: false, error: { name: 'E', message: 'm', retryable: false, details: ['x'] } }],
    ['progress', { t: 'progress', task: 3, stage: 'compiling', done: 1, total: 4, message: 'a.c' }],
    ['log', { t: 'log', task: 3, level: 'warn', message: 'careful' }],
    ['heartbeat', { t: 'heartbeat', running: 0 }],
  ])('accepts %s', (_name, message) => {
    expect(decodeWorkerFrame(bytes(message))).toEqual([message])
  })

  test('accepts a batch: every message, in order', () => {
    const messages = [{ t: 'result', task: 1, ok: true, value: 1 }, { t: 'progress', task: 2, stage: 's' }, { t: 'result', task: 2, ok: true, value: [2] }]
    expect(decodeWorkerFrame(bytes(encodeWorkerBatch(messages.map(m => JSON.stringify(m)))))).toEqual(messages)
    expect(decodeWorkerFrame(bytes(encodeWorkerBatch([JSON.stringify(messages[0])])))).toEqual([messages[0]])
  })

  test.each([
    ['bytes that are not UTF-8', Buffer.from([0xc3, 0x28])],
    ['truncated JSON', bytes('{"t":"ready"')],
    ['a JSON array of non-messages', bytes([1, 2])],
    ['an empty batch', bytes([])],
    ['a batch with one bad message', bytes([{ t: 'heartbeat', running: 0 }, { t: 'heartbeat', running: -1 }])],
    ['a batch too long', bytes(Array.from({ length: WORKER_FRAME_MAX_MESSAGES + 1 }, () => ({ t: 'heartbeat', running: 0 })))],
    ['a nested batch', bytes([[{ t: 'heartbeat', running: 0 }]])],
    ['JSON null', bytes('null')],
    ['no type', bytes({ slots: 1 })],
    ['an unknown type', bytes({ t: 'exec', command: 'rm -rf /' })],
    ['a broker message', bytes({ t: 'task', task: 1, type: 'echo', input: null })],
    ['a prototype key as type', bytes({ t: '__proto__' })],
    ['a short token', bytes({ t: 'hello', v: 1, kind: 'exec', token: 'short', pid: 1, handlers: [] })],
    ['an unknown kind', bytes({ t: 'hello', v: 1, kind: 'gpu', token: TOKEN, pid: 1, handlers: [] })],
    ['a bad handler name', bytes({ t: 'hello', v: 1, kind: 'exec', token: TOKEN, pid: 1, handlers: ['../x'] })],
    ['zero slots', bytes({ t: 'ready', slots: 0 })],
    ['a result without value', bytes({ t: 'result', task: 1, ok: true })],
    ['a result with both', bytes({ t: 'result', task: 1, ok: false, value: 1, error: { name: 'E', message: '', retryable: false } })],
    ['a fractional task id', bytes({ t: 'result', task: 1.5, ok: true, value: 1 })],
    ['task id 0', bytes({ t: 'log', task: 0, level: 'info', message: '' })],
    ['an unknown log level', bytes({ t: 'log', task: 1, level: 'shout', message: '' })],
    ['an extra property', bytes({ t: 'heartbeat', running: 0, also: 1 })],
    ['a long log line', bytes({ t: 'log', task: 1, level: 'info', message: 'x'.repeat(16_385) })],
  ])('refuses %s', (_name, frame) => {
    expect(() => decodeWorkerFrame(frame)).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })

  test('refuses a frame over the size limit before parsing it', () => {
    expect(() => decodeWorkerFrame(bytes({ t: 'heartbeat', running: 0 }), 10)).toThrow(/exceeds 10/)
  })
})

describe('frames from the broker', () => {
  test.each([
    { t: 'welcome', workerId: 'exec-1', heartbeatIntervalMs: 1000 },
    { t: 'task', task: 9, type: 'sandbox', input: { command: ['true'] } },
    { t: 'cancel', task: 9 },
    { t: 'bye', reason: 'unauthorized' },
  ])('accepts $t', message => {
    expect(decodeBrokerFrame(bytes(message))).toEqual([message])
    expect(decodeBrokerFrame(bytes(encodeWorkerMessage(message as never)))).toEqual([message])
  })

  test.each([
    { t: 'welcome', workerId: '', heartbeatIntervalMs: 1000 },
    { t: 'task', task: 9, type: 'Bad Type', input: null },
    { t: 'bye', reason: 'because' },
    { t: 'heartbeat', running: 0 },
  ])('refuses %j', message => {
    expect(() => decodeBrokerFrame(bytes(message))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })
})

describe('errors across the wire', () => {
  test.each([
    [new AbortedError('stop'), AbortedError, 'AbortedError'],
    [new UnsupportedTaskError('no'), UnsupportedTaskError, 'UnsupportedTaskError'],
    [new InvalidSandboxSpecError('bad', { details: ['command is empty'] }), InvalidSandboxSpecError, 'InvalidSandboxSpecError'],
  ])('%s is rebuilt as the same class', (err, cls, name) => {
    const rebuilt = fromWireError(toWireError(err))
    expect(rebuilt).toBeInstanceOf(cls)
    expect(rebuilt.name).toBe(name)
    expect(rebuilt.message).toBe(err.message)
  })

  test('details survive; unknown names become TaskFailedError with remoteName and retryable', () => {
    expect((fromWireError(toWireError(new InvalidSandboxSpecError('bad', { details: ['a', 'b'] }))) as InvalidSandboxSpecError).problems).toEqual(['a', 'b'])
    const lost = fromWireError(toWireError(new WorkerLostError('remote pool')))
    expect(lost).toBeInstanceOf(TaskFailedError)
    expect(lost).toMatchObject({ name: 'TaskFailedError', remoteName: 'WorkerLostError', retryable: true })
  })

  test('anything thrown becomes a wire error; unserializable details are left out', () => {
    expect(toWireError('just a string')).toEqual({ name: 'Error', message: 'just a string', retryable: false })
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const err = Object.assign(new Error('x'), { details: circular })
    expect(toWireError(err)).toEqual({ name: 'Error', message: 'x', retryable: false })
    expect(toWireError(Object.assign(new Error('x'), { details: 'y'.repeat(70_000) })).details).toBeUndefined()
  })
})

describe('sandbox results', () => {
  const result = {
    exitCode: 0, signal: null, timedOut: false, limitHit: null, stdout: 'out', stderr: '',
    stdoutTruncated: false, stderrTruncated: false, filesTruncated: false,
    files: [{ path: 'a.txt', size: 1, sha256: 'a'.repeat(64), content: 'a' }],
    usage: { cpuMs: null, peakMemoryMb: null, wallMs: 3.5 },
  }

  test('a whole result passes', () => {
    expect(checkSandboxResultValue(result)).toEqual(result)
    expect(checkSandboxResultValue({ ...result, limitHit: 'memory', exitCode: 137, signal: 'SIGKILL' })).toBeTruthy()
  })

  test.each([
    ['a missing field', { ...result, usage: undefined }],
    ['an unknown limit', { ...result, limitHit: 'disk' }],
    ['a bad digest', { ...result, files: [{ path: 'a', size: 1, sha256: 'zz' }] }],
    ['an extra field', { ...result, secret: 1 }],
  ])('%s fails', (_name, value) => {
    expect(() => checkSandboxResultValue(value)).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })
})
