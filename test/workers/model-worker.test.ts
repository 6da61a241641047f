/**
 * The model kind end to end: a real worker process, reached over ZeroMQ through the pool,
 * runs generate (its tokens streaming as progress frames before the result), embed and
 * status on a generated tiny model; bad input is refused with InvalidTaskDataError and the
 * host's own errors keep their names, while the worker goes on serving.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeTestModel } from '../../models/index.js'
import {
  checkEmbedResult, checkGenerateResult, checkHostStatus, MODEL_TASK_TYPES, TOKEN_STAGE, type HostSettings, type ModelFile,
} from '../../protocols/model.js'
import type { TaskProgress, WorkerPool } from '../../workers/index.js'
import { cleanUp, startPool, tempDataDir } from './helpers.js'

// One thread: other test files run beside this one on 2 cores.
const settings: HostSettings = { threads: 1, memoryBudgetMb: 512, sequences: 4, contextSize: 256, gpuLayers: 'auto' }
let pool: WorkerPool
let model: ModelFile

beforeAll(async () => {
  const dir = await tempDataDir()
  const info = await writeTestModel({ path: join(dir, 'tiny.gguf'), seed: 21 })
  const bytes = await readFile(info.path)
  model = { name: info.name, path: info.path, digest: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }
  // The real heartbeat timing: the first model task imports node-llama-cpp, seconds of blocked
  // event loop on a busy machine, which is no hang.
  ;({ pool } = await startPool({ kinds: { exec: { size: 0 }, model: { size: 1, slots: 4 } }, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 30_000 }))
})
afterAll(cleanUp)

describe('the model worker', () => {
  test('generate streams its tokens as progress frames before the result', async () => {
    const frames: TaskProgress[] = []
    let framesAtResult = -1
    const value = await pool.submit('model', {
      type: MODEL_TASK_TYPES.generate,
      input: { model, settings, messages: [{ role: 'user', content: 'Say something.' }], temperature: 0, maxTokens: 24 },
    }, { onProgress: p => frames.push(p) }).then(v => { framesAtResult = frames.length; return v })
    const result = checkGenerateResult(value)
    expect(result.usage.completionTokens).toBeGreaterThan(0)
    expect(frames.length).toBeGreaterThan(0)
    expect(framesAtResult).toBe(frames.length)
    expect(frames.every(f => f.stage === TOKEN_STAGE)).toBe(true)
    expect(frames.map(f => f.message).join('')).toBe(result.text)
    expect(result.host.loaded).toEqual([expect.objectContaining({ digest: model.digest, active: 0 })])
  })

  test('embed and status', async () => {
    const embedded = checkEmbedResult(await pool.submit('model', { type: MODEL_TASK_TYPES.embed, input: { model, settings, texts: ['a b c', 'd e f'] } }))
    expect(embedded.vectors).toHaveLength(2)
    expect(embedded.vectors.every(v => v.length === embedded.dimensions && embedded.dimensions > 0)).toBe(true)
    const status = checkHostStatus(await pool.submit('model', { type: MODEL_TASK_TYPES.status, input: { settings } }))
    expect(status).toMatchObject({ memoryBudgetMb: 512, threads: 1, loaded: [expect.objectContaining({ name: model.name })] })
    expect(checkHostStatus(await pool.submit('model', { type: MODEL_TASK_TYPES.status }))).toEqual(status)
  })

  test('bad input is InvalidTaskDataError, host errors keep their names, and the worker keeps serving', async () => {
    const [pid] = pool.workers().filter(w => w.kind === 'model').map(w => w.pid)
    await expect(pool.submit('model', { type: MODEL_TASK_TYPES.generate, input: { prompt: 'no model' } })).rejects.toMatchObject({ name: 'InvalidTaskDataError' })
    await expect(pool.submit('model', { type: MODEL_TASK_TYPES.generate, input: { model, settings } })).rejects.toMatchObject({ name: 'InvalidTaskDataError' })
    await expect(pool.submit('model', { type: MODEL_TASK_TYPES.generate, input: { model, settings, prompt: 'w '.repeat(400) } })).rejects.toMatchObject({ name: 'TaskFailedError', remoteName: 'PromptTooLongError', retryable: false, details: { contextSize: 256 } })
    const value = await pool.submit('model', { type: MODEL_TASK_TYPES.generate, input: { model, settings, prompt: 'still there?', temperature: 0, maxTokens: 4 } })
    expect(checkGenerateResult(value).finishReason).toBe('length')
    expect(pool.workers().filter(w => w.kind === 'model').map(w => w.pid)).toEqual([pid])
  })

  test('a cancelled generate ends with AbortedError', async () => {
    const controller = new AbortController()
    const run = pool.submit('model', { type: MODEL_TASK_TYPES.generate, input: { model, settings, prompt: 'Once', temperature: 0, maxTokens: 1000 } }, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    })
    await expect(run).rejects.toMatchObject({ name: 'AbortedError' })
    expect(pool.stats().kinds.model.running).toBe(0)
  })
})
