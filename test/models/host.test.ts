/**
 * The model host on generated tiny models in the real node-llama-cpp: seeded and greedy
 * generation, JSON-schema output, parallel requests on one model, abort, embeddings, the
 * memory budget, and the typed errors. Plus the pure parts: the LRU choice, the request
 * defaults, the FIFO sequence queue and the token text splitter.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AbortedError, silentLogger } from '../../base/index.js'
import { writeTestModel, type TestModelInfo } from '../../models/index.js'
import {
  ModelHost, planAdmission, resolveGenerateRequest, SlotQueue, toChatHistory, type ResidentModel,
} from '../../models/host/index.js'
import { ModelMemory } from '../../models/host/memory.js'
import type { HostedModel } from '../../models/host/hosted-model.js'
import type { GenerateInput, HostSettings, ModelFile } from '../../protocols/model.js'
import { modelTempDir, removeModelTempDirs } from './helpers.js'
import { splitTokenText, TOKEN_MESSAGE_MAX } from '../../workers/model-handlers.js'

// One thread: vitest runs two test files at once on 2 cores (see llama.test.ts).
const settings: HostSettings = { threads: 1, memoryBudgetMb: 1024, sequences: 4, contextSize: 256, gpuLayers: 'auto' }
let dir: string
let a: ModelFile
let b: ModelFile
let c: ModelFile
let host: ModelHost

async function modelFile (info: Pick<TestModelInfo, 'path' | 'name'>): Promise<ModelFile> {
  const bytes = await readFile(info.path)
  return { name: info.name, path: info.path, digest: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }
}

beforeAll(async () => {
  dir = await modelTempDir()
  const infos = await Promise.all([11, 12, 13].map(async seed => await writeTestModel({ path: join(dir, `m${seed}.gguf`), seed })))
  ;[a, b, c] = await Promise.all(infos.map(modelFile))
  host = new ModelHost({ logger: silentLogger() })
})

afterAll(async () => {
  await host?.dispose()
  await removeModelTempDirs()
})

const generate = async (params: Partial<GenerateInput>, options: { signal?: AbortSignal, onToken?: (text: string, n: number) => void, on?: ModelHost } = {}) =>
  await (options.on ?? host).generate({ model: a, settings, ...params }, { signal: options.signal ?? AbortSignal.timeout(20_000), ...(options.onToken === undefined ? {} : { onToken: options.onToken }) })

describe('generate', () => {
  test('a seed repeats its text, another seed differs; the first request reports the load', async () => {
    const first = await generate({ prompt: 'def main():', temperature: 0.8, seed: 7, maxTokens: 24 })
    expect(first.timings.loadMs).toBeGreaterThan(0)
    expect(first.usage.promptTokens).toBeGreaterThan(1)
    expect(first.host.loaded).toEqual([expect.objectContaining({ name: a.name, digest: a.digest, active: 0, gpuLayers: expect.any(Number) })])
    const loaded = first.host.loaded[0]
    expect(loaded.promptTokensPerSecond).toBeGreaterThan(0)
    expect(loaded.generationTokensPerSecond).toBeGreaterThan(0)
    expect(loaded.memoryMb).toBeGreaterThan(0)
    const again = await generate({ prompt: 'def main():', temperature: 0.8, seed: 7, maxTokens: 24 })
    expect(again.text).toBe(first.text)
    expect(again.timings.loadMs).toBe(0)
    expect((await generate({ prompt: 'def main():', temperature: 0.8, seed: 8, maxTokens: 24 })).text).not.toBe(first.text)
  })

  test('greedy chat (system message included) is deterministic; tokens stream as they come', async () => {
    const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hi there' }]
    const streamed: Array<[string, number]> = []
    const first = await generate({ messages, temperature: 0, maxTokens: 16 }, { onToken: (text, n) => streamed.push([text, n]) })
    expect(streamed.map(([text]) => text).join('')).toBe(first.text)
    expect(streamed.map(([, n]) => n)).toEqual([...streamed.map(([, n]) => n)].sort((x, y) => x - y))
    expect(first.timings.firstTokenMs).toBeLessThanOrEqual(first.timings.totalMs)
    expect((await generate({ messages, temperature: 0, maxTokens: 16 })).text).toBe(first.text)
    const withoutSystem = await generate({ messages: messages.slice(1), temperature: 0, maxTokens: 16 })
    expect(withoutSystem.usage.promptTokens).toBeLessThan(first.usage.promptTokens)
  })

  test('a JSON schema constrains the output to matching JSON', async () => {
    const jsonSchema = { type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'integer' } } }
    const result = await generate({ messages: [{ role: 'user', content: 'Answer in JSON.' }], jsonSchema, temperature: 0.7, seed: 4, maxTokens: 64 })
    const value = JSON.parse(result.text) as { ok: unknown, n: unknown }
    expect(Object.keys(value)).toEqual(['ok', 'n'])
    expect(typeof value.ok).toBe('boolean')
    expect(Number.isInteger(value.n)).toBe(true)
    expect(result.finishReason).toBe('stop')
  })

  test('4 requests at once share the one loaded model and all complete', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(async seed => await generate({ prompt: `task ${seed}:`, seed, maxTokens: 16 })))
    for (const result of results) expect(result.usage.completionTokens).toBeGreaterThan(0)
    const status = await host.status()
    expect(status.loaded.map(m => m.digest)).toEqual([a.digest])
    expect(status.loaded[0].active).toBe(0)
    expect(status).toMatchObject({ memoryBudgetMb: 1024, threads: 1 })
  })

  test('an abort mid-generation rejects with AbortedError at once and frees the sequence', async () => {
    const controller = new AbortController()
    let abortedAt = 0
    await expect(generate({ prompt: 'Once upon a time', temperature: 0, maxTokens: 1000 }, {
      signal: controller.signal,
      onToken: (_text, n) => { if (n >= 2 && abortedAt === 0) { abortedAt = performance.now(); controller.abort() } },
    })).rejects.toBeInstanceOf(AbortedError)
    expect(performance.now() - abortedAt).toBeLessThan(1000)
    // Every sequence is free again: as many requests as sequences run at once.
    const after = await Promise.all([1, 2, 3, 4].map(async seed => await generate({ prompt: 'next', seed, maxTokens: 4 })))
    expect(after.every(r => r.usage.completionTokens > 0)).toBe(true)
    await expect(generate({ prompt: 'x' }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError)
  })

  test('stop strings end the text before them; maxTokens ends it with length', async () => {
    const greedy = await generate({ prompt: 'The answer is', temperature: 0, maxTokens: 24 })
    expect(greedy.finishReason).toBe('length')
    expect(greedy.usage.completionTokens).toBeGreaterThanOrEqual(24)
    // The random model's text is partly stray bytes: stop at its first pair of letters after the start.
    const letters = /[a-z]{2}/i.exec(greedy.text.slice(2))
    expect(letters).not.toBeNull()
    const stopAt = 2 + (letters?.index ?? 0)
    const stopped = await generate({ prompt: 'The answer is', temperature: 0, maxTokens: 24, stop: [greedy.text.slice(stopAt, stopAt + 2)] })
    expect(stopped.finishReason).toBe('stop')
    expect(greedy.text.startsWith(stopped.text)).toBe(true)
    expect(stopped.text.length).toBeLessThanOrEqual(stopAt)
    const short = await generate({ prompt: 'The answer is', maxTokens: 3, seed: 1 })
    expect(short.finishReason).toBe('length')
    // A token ending inside a character is completed by the next ones (at most 3 more bytes).
    expect(short.usage.completionTokens).toBeGreaterThanOrEqual(3)
    expect(short.usage.completionTokens).toBeLessThanOrEqual(6)
  })

  test('typed errors: a prompt over the context, a bad schema, both or neither of prompt and messages', async () => {
    const long = generate({ prompt: Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ') })
    await expect(long).rejects.toMatchObject({ name: 'PromptTooLongError', retryable: false, details: { contextSize: 256 } })
    const details = await long.then(() => undefined, (err: { details: { promptTokens: number } }) => err.details)
    expect(details?.promptTokens).toBeGreaterThan(256)
    await expect(generate({ prompt: 'x', jsonSchema: { type: 'object', properties: { a: { type: 'nonsense' } } } })).rejects.toMatchObject({ name: 'InvalidJsonSchemaError' })
    await expect(generate({ prompt: 'x', messages: [{ role: 'user', content: 'y' }] })).rejects.toMatchObject({ name: 'InvalidModelRequestError' })
    await expect(generate({})).rejects.toMatchObject({ name: 'InvalidModelRequestError' })
  })
})

describe('embed', () => {
  test('vectors in input order, deterministic, of the model dimension; a text over the context is refused', async () => {
    const texts = ['function add(a, b) { return a + b }', 'SELECT 1', 'function add(a, b) { return a + b }', '']
    const result = await host.embed({ model: a, settings, texts }, { signal: AbortSignal.timeout(20_000) })
    expect(result.dimensions).toBe(64)
    expect(result.vectors).toHaveLength(4)
    for (const vector of result.vectors) expect(vector).toHaveLength(64)
    expect(result.vectors[2]).toEqual(result.vectors[0])
    expect(result.vectors[1]).not.toEqual(result.vectors[0])
    expect(result.usage.promptTokens).toBeGreaterThan(4)
    const again = await host.embed({ model: a, settings, texts: ['SELECT 1'] }, { signal: AbortSignal.timeout(20_000) })
    expect(again.vectors[0]).toEqual(result.vectors[1])
    await expect(host.embed({ model: a, settings, texts: ['ok', 'x '.repeat(400)] }, { signal: AbortSignal.timeout(20_000) }))
      .rejects.toMatchObject({ name: 'PromptTooLongError', details: { index: 1 } })
  })
})

describe('loading', () => {
  test('the budget unloads the least recently used idle model', async () => {
    const own = new ModelHost()
    try {
      const first = await generate({ prompt: 'a', maxTokens: 2 }, { on: own })
      const perModel = first.host.loaded[0].memoryMb
      // Room for two models, not three.
      const budget = { ...settings, memoryBudgetMb: Math.ceil(perModel * 2.4) }
      expect(budget.memoryBudgetMb).toBeLessThan(perModel * 3)
      await own.generate({ model: b, settings: budget, prompt: 'b', maxTokens: 2 }, { signal: AbortSignal.timeout(20_000) })
      await own.generate({ model: a, settings: budget, prompt: 'a', maxTokens: 2 }, { signal: AbortSignal.timeout(20_000) })
      const third = await own.generate({ model: c, settings: budget, prompt: 'c', maxTokens: 2 }, { signal: AbortSignal.timeout(20_000) })
      expect(third.host.loaded.map(m => m.name).sort()).toEqual([a.name, c.name].sort())
      await expect(own.generate({ model: b, settings: { ...settings, memoryBudgetMb: 1 }, prompt: 'b' }, { signal: AbortSignal.timeout(20_000) }))
        .rejects.toMatchObject({ name: 'ModelTooLargeError', retryable: false })
    } finally {
      await own.dispose()
    }
  })

  test('concurrent first requests for one model load it once', async () => {
    const own = new ModelHost()
    try {
      const results = await Promise.all([1, 2, 3].map(async seed => await generate({ prompt: 'x', seed, maxTokens: 2 }, { on: own })))
      expect(results.filter(r => r.timings.loadMs > 0).length).toBeGreaterThanOrEqual(1)
      expect((await own.status()).loaded).toHaveLength(1)
    } finally {
      await own.dispose()
    }
  })

  test('a file that is not GGUF, a truncated one and one llama.cpp cannot load are typed errors', async () => {
    const notGguf = join(dir, 'not.gguf')
    await writeFile(notGguf, 'just text, not a model\n'.repeat(10))
    const truncated = join(dir, 'truncated.gguf')
    await writeFile(truncated, (await readFile(a.path)).subarray(0, Math.floor(a.bytes / 2)))
    for (const path of [notGguf, truncated]) {
      await expect(generate({ model: await modelFile({ path, name: 'broken' }), prompt: 'x' })).rejects.toMatchObject({ name: 'InvalidModelFileError' })
    }
    // A valid header with an architecture llama.cpp does not know (`general.architecture` = "alien").
    const alien = join(dir, 'alien.gguf')
    const file = await readFile(a.path)
    const key = file.indexOf('general.architecture')
    file.write('alien', file.indexOf('llama', key + 'general.architecture'.length), 'latin1')
    await writeFile(alien, file)
    await expect(generate({ model: await modelFile({ path: alien, name: 'alien' }), prompt: 'x' })).rejects.toMatchObject({ name: 'ModelLoadError', retryable: false })
    expect((await host.status()).loaded.every(m => m.name !== 'alien')).toBe(true)
  })
})

describe('pure parts', () => {
  const m = (key: string, bytes: number, lastUsed: number, active = 0, pinned = false): ResidentModel => ({ key, bytes, lastUsed, active, pinned })

  test.each([
    ['fits as is', [m('a', 10, 1)], 10, 30, { kind: 'fits', evict: [] }],
    ['evicts the least recently used idle model first', [m('a', 10, 2), m('b', 10, 1), m('c', 10, 3)], 10, 30, { kind: 'fits', evict: ['b'] }],
    ['evicts as many as needed, oldest first', [m('a', 10, 2), m('b', 10, 1), m('c', 10, 3)], 25, 30, { kind: 'fits', evict: ['b', 'a', 'c'] }],
    ['skips models in use', [m('a', 10, 1, 1), m('b', 10, 2)], 15, 25, { kind: 'fits', evict: ['b'] }],
    ['waits when only models in use stand in the way', [m('a', 10, 1, 1), m('b', 10, 2)], 15, 20, { kind: 'wait' }],
    ['too large for the whole budget', [], 31, 30, { kind: 'too-large' }],
    ['too large beside the pinned model', [m('a', 20, 1, 0, true)], 15, 30, { kind: 'too-large' }],
    ['never evicts the pinned model', [m('a', 10, 1, 0, true), m('b', 10, 2)], 15, 30, { kind: 'fits', evict: ['b'] }],
    ['ties broken by key', [m('b', 10, 1), m('a', 10, 1)], 10, 20, { kind: 'fits', evict: ['a'] }],
  ] as const)('planAdmission: %s', (_name, resident, need, budget, plan) => {
    expect(planAdmission(resident, need, budget)).toEqual(plan)
  })

  test('a reservation waits for a model in use, then unloads it when it is released', async () => {
    const memory = new ModelMemory(silentLogger())
    memory.setBudgetMb(10)
    let disposed = false
    const busy = { file: { name: 'busy', digest: 'd1' }, bytes: 8 * 1024 * 1024, active: 0, lastUse: 0, lastUsedAt: 0, dispose: async () => { disposed = true } } as unknown as HostedModel
    memory.add(busy)
    expect(memory.acquire('d1')).toBe(busy)
    let reserved = false
    const reservation = memory.reserve('new', 5 * 1024 * 1024, { name: 'new', signal: AbortSignal.timeout(5000) }).then(() => { reserved = true })
    await new Promise(resolve => setImmediate(resolve))
    expect(reserved).toBe(false)
    memory.release(busy)
    await reservation
    expect(disposed).toBe(true)
    expect(memory.loaded()).toEqual([])
    const aborted = new AbortController()
    memory.add(busy)
    memory.acquire('d1')
    const waiting = memory.reserve('other', 5 * 1024 * 1024, { name: 'other', signal: aborted.signal })
    aborted.abort()
    await expect(waiting).rejects.toBeInstanceOf(AbortedError)
  })

  test('the sequence queue serves waiters in order; an aborted waiter leaves the line', async () => {
    const slots = new SlotQueue(1)
    await slots.acquire(AbortSignal.timeout(1000))
    const order: string[] = []
    const controller = new AbortController()
    const first = slots.acquire(AbortSignal.timeout(1000)).then(() => order.push('first'))
    const dropped = slots.acquire(controller.signal)
    const last = slots.acquire(AbortSignal.timeout(1000)).then(() => order.push('last'))
    controller.abort()
    await expect(dropped).rejects.toBeInstanceOf(AbortedError)
    expect(slots.waiting).toBe(2)
    slots.release()
    await first
    slots.release()
    await last
    expect(order).toEqual(['first', 'last'])
  })

  test('request defaults, chat history and token text pieces', () => {
    const base = { model: { name: 'm', path: '/m', digest: '0'.repeat(64), bytes: 1 }, settings }
    expect(resolveGenerateRequest({ ...base, prompt: 'x' })).toEqual({ input: { kind: 'completion', prompt: 'x' }, maxTokens: 256, temperature: 0.7, stop: [], tools: { kind: 'none' }, sampling: {} })
    // Tool turns: a call holds the result of the tool message that answers it; an orphan result is a user turn.
    const call = { id: 'call_1', name: 'f', arguments: '{"a":1}' }
    expect(toChatHistory([{ role: 'user', content: 'u' }, { role: 'assistant', content: '', toolCalls: [call] }, { role: 'tool', content: '42', toolCallId: 'call_1' }, { role: 'tool', content: 'x', toolCallId: 'other' }])).toEqual([
      { type: 'user', text: 'u' }, { type: 'model', response: [{ type: 'functionCall', name: 'f', params: { a: 1 }, result: '42' }] }, { type: 'user', text: 'Tool result: x' }, { type: 'model', response: [] },
    ])
    const forced = resolveGenerateRequest({ ...base, messages: [{ role: 'user', content: 'u' }], tools: [{ name: 'f' }, { name: 'g' }], toolChoice: 'required', parallelToolCalls: false })
    expect(forced.tools).toMatchObject({ kind: 'forced', parallel: false, schema: { oneOf: [{ properties: { name: { const: 'f' } } }, { properties: { name: { const: 'g' } } }] } })
    expect(() => resolveGenerateRequest({ ...base, prompt: 'x', tools: [{ name: 'f' }] })).toThrow(/need messages/)
    expect(toChatHistory([{ role: 'system', content: 's' }, { role: 'user', content: 'u' }])).toEqual([
      { type: 'system', text: 's' }, { type: 'user', text: 'u' }, { type: 'model', response: [] },
    ])
    expect(toChatHistory([{ role: 'user', content: 'u' }, { role: 'assistant', content: 'Sure:' }]).at(-1)).toEqual({ type: 'model', response: ['Sure:'] })
    expect(splitTokenText('abc')).toEqual(['abc'])
    const long = '😀'.repeat(TOKEN_MESSAGE_MAX)
    const pieces = splitTokenText(long)
    expect(pieces.join('')).toBe(long)
    expect(pieces.every(p => p.length <= TOKEN_MESSAGE_MAX && !/^[\uDC00-\uDFFF]/.test(p))).toBe(true)
  })
})
