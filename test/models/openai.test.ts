/**
 * Models across a mesh through the official `openai` client: a model added to one running
 * node's store is advertised, listed and served from another node that has no model (and
 * no model worker) at all; streaming, JSON schema, embeddings, errors and cancellation.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import OpenAI, { APIError } from 'openai'
import { ModelStore, writeTestModel } from '../../models/index.js'
import type { GryphgenNode } from '../../node/node.js'
import { newSwarmKeyHex, nodeTracker, tempDir, waitFor } from '../helpers/nodes.js'

const nodes = nodeTracker()
let a: GryphgenNode // has the model and a model worker
let b: GryphgenNode // has neither
let client: OpenAI
let token: string
const MODEL = 'tiny-chat'

const apiToken = async (node: GryphgenNode): Promise<string> => (await readFile(join(node.config.dataDir, 'api-token'), 'utf8')).trim()
const taskOf = async (node: GryphgenNode, id: string): Promise<Awaited<ReturnType<GryphgenNode['tasks']['get']>>> => node.tasks.get(id)

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  a = await nodes.start({ swarmKey, name: 'a', modelWorkers: 1, models: { contextSize: 1024 } })
  b = await nodes.start({ swarmKey, name: 'b', bootstrap: a.addresses() })
  // What `gryphgen model add` does, on a running node: the store changes, the node notices.
  const file = join(await tempDir(), 'tiny.gguf')
  await writeTestModel({ path: file, seed: 11 })
  await (await ModelStore.open({ dataDir: a.config.dataDir })).add(file, { name: MODEL })
  await waitFor(() => b.meshModels().some(m => m.name === MODEL), 15_000)
  token = await apiToken(b)
  client = new OpenAI({ baseURL: `${b.apiUrl}/v1`, apiKey: token, maxRetries: 0, timeout: 60_000 })
})

afterAll(async () => { await nodes.stopAll() })

describe('OpenAI-compatible API across a mesh', () => {
  test('GET /v1/models lists the model with the node that has it', async () => {
    const list = await client.models.list()
    const model = list.data.find(m => m.id === MODEL) as unknown as { id: string, object: string, gryphgen: { nodes: string[] } }
    expect(model).toMatchObject({ id: MODEL, object: 'model' })
    expect(model.gryphgen.nodes).toEqual([a.peerId])
    expect((await client.models.retrieve(MODEL)).id).toBe(MODEL)
  })

  test('a chat completion sent to a node without the model runs on the node with it, repeatably with a seed', async () => {
    const request = { model: MODEL, messages: [{ role: 'user' as const, content: 'Write a haiku' }], max_tokens: 16, temperature: 0.8, seed: 7 }
    const { data: first, response } = await client.chat.completions.create(request).withResponse()
    const text = first.choices[0].message.content ?? ''
    expect(text.length).toBeGreaterThan(0)
    expect(first.object).toBe('chat.completion')
    expect(first.usage?.completion_tokens).toBeGreaterThan(0)
    expect(first.usage?.completion_tokens).toBeLessThanOrEqual(16)
    expect(['stop', 'length']).toContain(first.choices[0].finish_reason)
    const task = await taskOf(b, response.headers.get('x-gryphgen-task') ?? '')
    expect(task.attempts.at(-1)?.node).toBe(a.peerId)
    const again = await client.chat.completions.create(request)
    expect(again.choices[0].message.content).toBe(text)
    const other = await client.chat.completions.create({ ...request, seed: 8 })
    expect(other.choices[0].message.content).not.toBe(text)
  })

  test('streaming sends the same text as chunks, then usage', async () => {
    const request = { model: MODEL, messages: [{ role: 'user' as const, content: 'Count' }], max_tokens: 24, temperature: 0.8, seed: 3 }
    const whole = (await client.chat.completions.create(request)).choices[0].message.content
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } })
    let text = ''
    let chunks = 0
    let finish: string | null = null
    let usage: OpenAI.CompletionUsage | undefined | null
    for await (const chunk of stream) {
      chunks++
      text += chunk.choices[0]?.delta.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
      usage = chunk.usage ?? usage
    }
    expect(text).toBe(whole)
    expect(chunks).toBeGreaterThan(3)
    expect(finish).not.toBeNull()
    expect(usage?.completion_tokens).toBeGreaterThan(0)
  })

  test('a JSON schema response format gives JSON that matches it', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'integer' } }, required: ['ok', 'n'], additionalProperties: false }
    const reply = await client.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: 'Answer' }], max_tokens: 64, seed: 1, temperature: 0.5,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
    })
    const parsed = JSON.parse(reply.choices[0].message.content ?? '') as { ok: unknown, n: unknown }
    expect(Object.keys(parsed).sort()).toEqual(['n', 'ok'])
    expect(typeof parsed.ok).toBe('boolean')
    expect(Number.isInteger(parsed.n)).toBe(true)
  })

  test('embeddings are deterministic vectors, as floats or base64', async () => {
    const input = ['function add(a, b) { return a + b }', 'SELECT 1']
    const first = await client.embeddings.create({ model: MODEL, input }) // the client asks for base64 and decodes it
    const floats = await client.embeddings.create({ model: MODEL, input, encoding_format: 'float' })
    expect(first.data).toHaveLength(2)
    expect(first.data[0].embedding).toHaveLength(64)
    expect(first.data[0].embedding).not.toEqual(first.data[1].embedding)
    floats.data.forEach((d, i) => { d.embedding.forEach((v, j) => { expect(v).toBeCloseTo(first.data[i].embedding[j], 5) }) })
    expect(first.usage.prompt_tokens).toBeGreaterThan(0)
  })

  test('four requests at once on one model all complete', async () => {
    const replies = await Promise.all([1, 2, 3, 4].map(async seed => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `Go ${seed}` }], max_tokens: 12, seed, temperature: 0.8 })))
    for (const r of replies) expect(r.choices[0].message.content?.length).toBeGreaterThan(0)
  })

  test('the advert tells the mesh the model is loaded, with its measured speed', async () => {
    await waitFor(() => b.meshModels().find(m => m.name === MODEL)?.loadedOn.includes(a.peerId) === true, 15_000)
    const model = b.meshModels().find(m => m.name === MODEL)
    expect(model?.generationTokensPerSecond).toBeGreaterThan(0)
  })

  test('bad requests get clear 4xx errors in OpenAI\'s shape', async () => {
    const expectError = async (p: Promise<unknown>, status: number, code?: string): Promise<APIError> => {
      const err = await p.then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(APIError)
      expect((err as APIError).status).toBe(status)
      if (code !== undefined) expect((err as APIError).code).toBe(code)
      return err as APIError
    }
    const unknown = await expectError(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }), 404, 'model_not_found')
    expect(unknown.message).toContain(MODEL) // names what exists
    const long = 'lorem ipsum dolor sit amet '.repeat(200) // ~5400 bytes: over the 1024-token context
    await expectError(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: long }] }), 400, 'context_length_exceeded')
    await expectError(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: long }], stream: true }), 400, 'context_length_exceeded')
    const schema = await expectError(client.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '^a' } } },
    }), 400)
    expect(schema.message).toMatch(/pattern/)
    const param = await expectError(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], store: true }), 400, 'unsupported_parameter')
    expect(param.param).toBe('store')
    await expectError(client.embeddings.create({ model: 'no-such-model', input: 'x' }), 404, 'model_not_found')
    // The node that answered these is still serving.
    expect((await client.models.list()).data.length).toBeGreaterThan(0)
  })

  test('a client that goes away mid-stream cancels its task on the model\'s node', async () => {
    const abort = new AbortController()
    const { data: stream, response } = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Go on' }], max_tokens: 100_000, stream: true, temperature: 1, seed: 5 }, { signal: abort.signal }).withResponse()
    const id = response.headers.get('x-gryphgen-task') ?? ''
    let chunks = 0
    try {
      for await (const _chunk of stream) if (++chunks === 5) abort.abort()
    } catch { /* aborted */ }
    await waitFor(async () => (await taskOf(a, id).catch(() => undefined))?.state === 'cancelled', 15_000)
    expect(chunks).toBe(5)
  })
})

describe('model task kinds through /v1/tasks', () => {
  test('generate streams token events whose text adds up to the result; analyze answers in its shape', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const submit = async (body: unknown): Promise<string> => {
      const res = await fetch(`${b.apiUrl}/v1/tasks`, { method: 'POST', headers, body: JSON.stringify(body) })
      expect(res.status).toBe(202)
      return ((await res.json()) as { id: string }).id
    }
    // Token events are live (a finished task's text is its result): watch from before it is written.
    const tokens: Array<{ text: string, offset: number }> = []
    const { id, off } = await b.tasks.submitWatched({ kind: 'generate', model: MODEL, prompt: 'def main():', maxTokens: 20, seed: 2, temperature: 0.8 }, e => { if (e.type === 'token') tokens.push(e) }, {})
    await waitFor(async () => (await taskOf(b, id)).state === 'succeeded', 30_000)
    const done = await taskOf(b, id)
    await waitFor(() => tokens.map(t => t.text).join('') === done.result?.text, 5000) // relayed from a: may trail the state
    off?.()
    expect((done.result?.text as string).length).toBeGreaterThan(0)
    expect(tokens.every((t, i) => t.offset === tokens.slice(0, i).reduce((n, p) => n + p.text.length, 0))).toBe(true)
    const events = await (await fetch(`${b.apiUrl}/v1/tasks/${id}/events`, { headers })).text()
    expect(events).toMatch(/"state":"succeeded"/) // the SSE route serves model tasks too

    const analyzed = await submit({ kind: 'analyze', model: MODEL, code: 'let x = 1\nx = x / 0\n', language: 'js', maxTokens: 4096, seed: 1 })
    await waitFor(async () => ['succeeded', 'failed'].includes((await taskOf(b, analyzed)).state), 60_000, 100)
    const view = await taskOf(b, analyzed)
    expect(view.state, JSON.stringify(view.result)).toBe('succeeded')
    expect(Array.isArray(view.result?.issues)).toBe(true)
    expect(typeof view.result?.summary).toBe('string')
    // Cut off before its JSON ends: a typed failure that still says what it spent.
    const cut = await submit({ kind: 'analyze', model: MODEL, code: 'let x = 1\n', maxTokens: 3, seed: 1 })
    await waitFor(async () => ['succeeded', 'failed'].includes((await taskOf(b, cut)).state), 60_000, 100)
    const cutView = await taskOf(b, cut)
    expect(cutView.state).toBe('failed')
    expect(cutView.result).toMatchObject({ error: { name: 'AnalysisOutputError' }, usage: { completionTokens: 3 } })
    expect((cutView.result?.usage as { promptTokens: number }).promptTokens).toBeGreaterThan(0)

    const res = await fetch(`${b.apiUrl}/v1/tasks`, { method: 'POST', headers, body: JSON.stringify({ kind: 'generate', model: MODEL, prompt: 'x', messages: [{ role: 'user', content: 'y' }] }) })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/exactly one of messages and prompt/)
  })
})
