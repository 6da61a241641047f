/**
 * What agent frameworks need from the OpenAI surface, through the official `openai` client
 * across a 2-node mesh (model on a, requests at b): forced tool calls (streamed and not)
 * whose arguments parse and match the schema, a two-turn agent loop, /v1/completions,
 * logprobs, penalties, the OpenAI-shaped error for every unsupported parameter or value, and
 * `gryphgen chat` (a real CLI process against b's API).
 * One model load for the whole file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import OpenAI, { APIError } from 'openai'
import { ModelStore, writeScriptedModel, writeTestModel } from '../../models/index.js'
import type { GryphgenNode } from '../../node/node.js'
import { newSwarmKeyHex, nodeTracker, PATIENCE_MS, tempDir, waitFor } from '../helpers/nodes.js'
import { BIN, killAll, runCli } from '../helpers/processes.js'

const nodes = nodeTracker()
let b: GryphgenNode
let client: OpenAI
const MODEL = 'tiny-agent'
/** The same shape with fill-in-the-middle tokens. */
const FIM_MODEL = 'tiny-fim'
/**
 * A scripted model that answers in the ChatML wrapper's function call syntax
 * (`||call: get_weather` newline; the engine adds `(`, the model the arguments; the engine `)`).
 */
const CALLER_MODEL = 'tiny-caller'
const CALLER_PIECES = ['||call:', ' get_weather\n', '{"city":"Oslo",', '"unit":"c",', '"days":2}']

const WEATHER: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] }, days: { type: 'integer' } }, required: ['city', 'unit', 'days'], additionalProperties: false },
  },
}
const CLOCK: OpenAI.ChatCompletionTool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', maxLength: 8 } }, required: ['zone'], additionalProperties: false } } }
const ask = [{ role: 'user' as const, content: 'What is the weather in Oslo?' }]

/** The schema of WEATHER, checked by hand. */
function expectWeatherArguments (text: string): void {
  const args = JSON.parse(text) as Record<string, unknown>
  expect(Object.keys(args).sort()).toEqual(['city', 'days', 'unit'])
  expect(typeof args.city).toBe('string')
  expect((args.city as string).length).toBeLessThanOrEqual(12)
  expect(['c', 'f']).toContain(args.unit)
  expect(typeof args.days).toBe('number')
  expect(text, text).toMatch(/"days"\s*:\s*-?\d+(e\+?\d+)?\s*[,}]/) // an integer (llama.cpp's grammar allows 283e498, which JSON.parse makes Infinity)
}

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  const a = await nodes.start({ swarmKey, name: 'a', modelWorkers: 1, models: { contextSize: 2048 } })
  b = await nodes.start({ swarmKey, name: 'b', bootstrap: a.addresses() })
  const file = join(await tempDir(), 'tiny.gguf')
  await writeTestModel({ path: file, seed: 11 })
  const fimFile = join(await tempDir(), 'tiny-fim.gguf')
  await writeTestModel({ path: fimFile, seed: 11, fim: true })
  const store = await ModelStore.open({ dataDir: a.config.dataDir })
  await store.add(file, { name: MODEL })
  await store.add(fimFile, { name: FIM_MODEL })
  const callerFile = join(await tempDir(), 'tiny-caller.gguf')
  await writeScriptedModel({ path: callerFile, pieces: CALLER_PIECES, after: { '(': 2 } })
  await store.add(callerFile, { name: CALLER_MODEL })
  await waitFor(() => [MODEL, FIM_MODEL, CALLER_MODEL].every(name => b.meshModels().some(m => m.name === name)), 15_000)
  const token = (await readFile(join(b.config.dataDir, 'api-token'), 'utf8')).trim()
  client = new OpenAI({ baseURL: `${b.apiUrl}/v1`, apiKey: token, maxRetries: 0, timeout: 120_000 })
})

afterAll(async () => {
  await killAll()
  await nodes.stopAll()
})

describe('tool calling', () => {
  test('a named tool_choice returns a call whose arguments parse and match the schema', async () => {
    const reply = await client.chat.completions.create({ model: MODEL, messages: ask, tools: [WEATHER, CLOCK], tool_choice: { type: 'function', function: { name: 'get_weather' } }, max_tokens: 400, temperature: 0.8, seed: 4 })
    const choice = reply.choices[0]
    expect(choice.finish_reason).toBe('tool_calls')
    expect(choice.message.tool_calls).toHaveLength(1)
    const call = choice.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall
    expect(call.type).toBe('function')
    expect(call.id).toMatch(/^call_/)
    expect(call.function.name).toBe('get_weather')
    expectWeatherArguments(call.function.arguments)
  })

  test('streamed, tool_choice required gives tool_calls deltas the client assembles into valid calls', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages: ask, tools: [WEATHER, CLOCK], tool_choice: 'required', max_tokens: 600, temperature: 0.8, seed: 6, stream: true })
    const calls = new Map<number, { id?: string, name: string, arguments: string }>()
    let finish: string | null = null
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = calls.get(d.index) ?? { name: '', arguments: '' }
        calls.set(d.index, { id: d.id ?? call.id, name: call.name + (d.function?.name ?? ''), arguments: call.arguments + (d.function?.arguments ?? '') })
      }
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(finish).toBe('tool_calls')
    expect(calls.size).toBeGreaterThan(0)
    for (const call of calls.values()) {
      expect(call.id).toMatch(/^call_/)
      expect(['get_weather', 'get_time']).toContain(call.name)
      if (call.name === 'get_weather') expectWeatherArguments(call.arguments)
      else expect(Object.keys(JSON.parse(call.arguments) as object)).toEqual(['zone'])
    }
  })

  test('streamed tool calls come as OpenAI deltas (name first, then argument fragments) that the client\'s stream helper reassembles', async () => {
    const stream = client.chat.completions.stream({ model: MODEL, messages: ask, tools: [WEATHER, CLOCK], tool_choice: { type: 'function', function: { name: 'get_weather' } }, max_tokens: 400, temperature: 0.8, seed: 4 })
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = []
    let argumentDeltas = 0
    stream.on('chunk', chunk => { deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? [])) })
    stream.on('tool_calls.function.arguments.delta', () => { argumentDeltas++ })
    const final = await stream.finalChatCompletion()
    expect(final.choices[0].finish_reason).toBe('tool_calls')
    const call = final.choices[0].message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall
    expect(final.choices[0].message.tool_calls).toHaveLength(1)
    expect(call.id).toMatch(/^call_/)
    expect(call.function.name).toBe('get_weather')
    expectWeatherArguments(call.function.arguments)
    // OpenAI's order: the first delta names the call, the rest carry only argument fragments.
    expect(deltas[0]).toMatchObject({ index: 0, id: call.id, type: 'function', function: { name: 'get_weather', arguments: '' } })
    for (const d of deltas.slice(1)) {
      expect(d.id).toBeUndefined()
      expect(d.function?.name).toBeUndefined()
    }
    expect(argumentDeltas).toBeGreaterThanOrEqual(2)
    expect(deltas.slice(1).map(d => d.function?.arguments).join('')).toBe(call.function.arguments)
  })

  test('tool_choice auto: a model that answers in its template\'s call syntax gives parsed tool_calls, streamed and not', async () => {
    const request = { model: CALLER_MODEL, messages: ask, tools: [WEATHER], tool_choice: 'auto' as const, max_tokens: 60, temperature: 0 }
    const reply = await client.chat.completions.create(request)
    expect(reply.choices[0].finish_reason).toBe('tool_calls')
    const call = reply.choices[0].message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall
    expect(reply.choices[0].message.tool_calls).toHaveLength(1)
    expect(call.id).toMatch(/^call_/)
    expect(call.function.name).toBe('get_weather')
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Oslo', unit: 'c', days: 2 })
    expectWeatherArguments(call.function.arguments)
    expect(reply.choices[0].message.content ?? '').toBe('') // the call syntax is not text
    const stream = client.chat.completions.stream(request)
    let content = ''
    stream.on('content.delta', ({ delta }) => { content += delta })
    const final = await stream.finalChatCompletion()
    expect(final.choices[0].finish_reason).toBe('tool_calls')
    const streamed = final.choices[0].message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall
    expect(streamed.function.name).toBe('get_weather')
    expect(JSON.parse(streamed.function.arguments)).toEqual({ city: 'Oslo', unit: 'c', days: 2 })
    expect(content).toBe('')
  })

  test('an agent loop: call, tool result, answer; the result reaches the model', async () => {
    const first = await client.chat.completions.create({ model: MODEL, messages: ask, tools: [WEATHER], tool_choice: 'required', parallel_tool_calls: false, max_tokens: 400, temperature: 0.8, seed: 9 })
    const message = first.choices[0].message
    expect(message.tool_calls).toHaveLength(1)
    const call = message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall
    const turn = (result: string): OpenAI.ChatCompletionMessageParam[] => [...ask, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: result }]
    const answer = await client.chat.completions.create({ model: MODEL, messages: turn('{"temperature": 21}'), tools: [WEATHER], max_tokens: 24, temperature: 0.8, seed: 2 })
    expect(['stop', 'length', 'tool_calls']).toContain(answer.choices[0].finish_reason)
    expect((answer.choices[0].message.content ?? '').length + (answer.choices[0].message.tool_calls?.length ?? 0)).toBeGreaterThan(0)
    // A longer tool result is a longer prompt: the tool message is rendered for the model.
    const promptTokens = async (result: string): Promise<number> => (await client.chat.completions.create({ model: MODEL, messages: turn(result), max_tokens: 1, temperature: 0 })).usage?.prompt_tokens ?? 0
    expect(await promptTokens(`{"temperature": 21, "note": "${'sunny '.repeat(20)}"}`)).toBeGreaterThan(await promptTokens('{"temperature": 21}') + 10)
    // tool_choice none: text, no calls.
    const none = await client.chat.completions.create({ model: MODEL, messages: ask, tools: [WEATHER], tool_choice: 'none', max_tokens: 8, temperature: 0.8, seed: 1 })
    expect(none.choices[0].message.tool_calls).toBeUndefined()
    expect(none.choices[0].message.content?.length).toBeGreaterThan(0)
  })
})

describe('the generate task kind', () => {
  test('takes tools: a forced call is in the result; tools with a prompt or naming no tool are refused at submission', async () => {
    const token = (await readFile(join(b.config.dataDir, 'api-token'), 'utf8')).trim()
    const post = async (body: unknown): Promise<Response> => await fetch(`${b.apiUrl}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const tools = [{ name: 'get_weather', parameters: WEATHER.function.parameters }]
    const res = await post({ kind: 'generate', model: MODEL, messages: ask, tools, toolChoice: { name: 'get_weather' }, maxTokens: 400, temperature: 0.8, seed: 4 })
    expect(res.status).toBe(202)
    const { id } = (await res.json()) as { id: string }
    await waitFor(async () => ['succeeded', 'failed'].includes((await b.tasks.get(id)).state), 60_000, 100)
    const view = await b.tasks.get(id)
    expect(view.state, JSON.stringify(view.result)).toBe('succeeded')
    expect(view.result?.finishReason).toBe('tool_calls')
    const calls = view.result?.toolCalls as Array<{ name: string, arguments: string }>
    expect(calls.map(c => c.name)).toEqual(['get_weather'])
    expectWeatherArguments(calls[0].arguments)
    for (const body of [
      { kind: 'generate', model: MODEL, prompt: 'x', tools },
      { kind: 'generate', model: MODEL, messages: ask, tools, toolChoice: { name: 'nope' } },
      { kind: 'generate', model: MODEL, messages: ask, tools: [{ name: 'f', parameters: { type: 'string', pattern: 'a' } }] },
    ]) {
      const refused = await post(body)
      expect(refused.status).toBe(400)
      expect(((await refused.json()) as { error: { name: string } }).error.name).toBe('InvalidTaskError')
    }
  })
})

describe('completions, logprobs and sampling', () => {
  test('/v1/completions, streamed and not, gives the same text; an array of prompts one choice each', async () => {
    const request = { model: MODEL, prompt: 'def main():', max_tokens: 16, temperature: 0.8, seed: 5 }
    const whole = await client.completions.create(request)
    expect(whole.object).toBe('text_completion')
    expect(whole.choices[0].text.length).toBeGreaterThan(0)
    expect(whole.usage?.completion_tokens).toBeLessThanOrEqual(16)
    let streamed = ''
    let finish: string | null = null
    for await (const chunk of await client.completions.create({ ...request, stream: true })) {
      streamed += chunk.choices[0]?.text ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(streamed).toBe(whole.choices[0].text)
    expect(finish).toBe(whole.choices[0].finish_reason)
    const two = await client.completions.create({ ...request, prompt: ['a', 'b'] })
    expect(two.choices.map(c => c.index)).toEqual([0, 1])
  })

  test('logprobs: one entry per generated token, with the alternatives asked for, streamed and not', async () => {
    const chat = await client.chat.completions.create({ model: MODEL, messages: ask, max_tokens: 12, temperature: 0.8, seed: 3, logprobs: true, top_logprobs: 3 })
    const content = chat.choices[0].logprobs?.content ?? []
    expect(content).toHaveLength(chat.usage?.completion_tokens ?? -1)
    for (const l of content) {
      expect(l.logprob).toBeLessThanOrEqual(0)
      expect(l.top_logprobs).toHaveLength(3)
      expect(l.top_logprobs[0].logprob).toBeGreaterThanOrEqual(l.logprob - 1e-6) // the best alternative is at least as likely
    }
    expect(content.map(l => l.token).join('')).toBe(chat.choices[0].message.content)
    let streamed = 0
    for await (const chunk of await client.chat.completions.create({ model: MODEL, messages: ask, max_tokens: 12, temperature: 0.8, seed: 3, logprobs: true, top_logprobs: 2, stream: true })) {
      streamed += chunk.choices[0]?.logprobs?.content?.length ?? 0
    }
    expect(streamed).toBe(content.length)
    const legacy = await client.completions.create({ model: MODEL, prompt: 'x =', max_tokens: 10, temperature: 0.8, seed: 3, logprobs: 2 })
    const lp = legacy.choices[0].logprobs
    expect(lp?.tokens).toHaveLength(legacy.usage?.completion_tokens ?? -1)
    expect(lp?.token_logprobs).toHaveLength(lp?.tokens?.length ?? -1)
    expect(Object.keys(lp?.top_logprobs?.[0] ?? {}).length).toBeGreaterThan(0)
  })

  test('streamed logprobs come with their text: each content chunk carries its tokens\' log probabilities', async () => {
    const request = { model: MODEL, messages: ask, max_tokens: 12, temperature: 0.8, seed: 3, logprobs: true, top_logprobs: 2 }
    const whole = await client.chat.completions.create(request)
    const stream = client.chat.completions.stream(request)
    const pieces: Array<{ content: string, tokens: string }> = []
    stream.on('chunk', chunk => {
      const choice = chunk.choices[0]
      if (choice?.delta.content !== undefined && choice.delta.content !== null && choice.delta.content !== '') pieces.push({ content: choice.delta.content, tokens: (choice.logprobs?.content ?? []).map(l => l.token).join('') })
    })
    const final = await stream.finalChatCompletion()
    expect(final.choices[0].message.content).toBe(whole.choices[0].message.content)
    expect(pieces.length).toBe(whole.choices[0].logprobs?.content?.length)
    expect(pieces.length).toBeGreaterThan(1)
    for (const p of pieces) expect(p.tokens).toBe(p.content)
    expect(final.choices[0].logprobs?.content?.map(l => l.logprob)).toEqual(whole.choices[0].logprobs?.content?.map(l => l.logprob))
  })

  test('penalties, top_k and min_p are applied', async () => {
    const request = { model: MODEL, prompt: 'the the the', max_tokens: 40, temperature: 0 }
    const plain = (await client.completions.create(request)).choices[0].text
    const penalized = (await client.completions.create({ ...request, frequency_penalty: 2, presence_penalty: 2 })).choices[0].text
    expect(penalized).not.toBe(plain)
    const extras = { top_k: 3, min_p: 0.05, repeat_penalty: 1.3 } as Record<string, number>
    const sampled = await client.completions.create({ ...request, temperature: 0.9, seed: 1, ...extras })
    expect(sampled.choices[0].text.length).toBeGreaterThan(0)
  })
})

describe('fill-in-the-middle', () => {
  const request = { model: FIM_MODEL, prompt: 'def add(a, b):', max_tokens: 6, temperature: 0 }

  test('suffix on a model with FIM tokens: the prompt is prefix, suffix and the FIM tokens, streamed and not', async () => {
    const plain = await client.completions.create(request)
    const filled = await client.completions.create({ ...request, suffix: ' return total' })
    expect(filled.choices[0].finish_reason).toMatch(/^(stop|length)$/)
    // <fim_prefix> prompt <fim_suffix> suffix <fim_middle>: the suffix's tokens and three more.
    expect((filled.usage?.prompt_tokens ?? 0) - (plain.usage?.prompt_tokens ?? 0)).toBeGreaterThanOrEqual(4)
    const stream = await client.completions.create({ ...request, suffix: ' return total', stream: true, stream_options: { include_usage: true } })
    let text = ''
    let promptTokens = 0
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? ''
      promptTokens = chunk.usage?.prompt_tokens ?? promptTokens
    }
    expect(text).toBe(filled.choices[0].text) // greedy: the same fill
    expect(promptTokens).toBe(filled.usage?.prompt_tokens)
  })

  test('suffix on a model without FIM tokens: unsupported_value on suffix, streamed too', async () => {
    for (const stream of [false, true]) {
      const err = await (client.completions.create({ ...request, model: MODEL, suffix: 'x', stream } as never) as Promise<unknown>).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(APIError)
      expect((err as APIError).status).toBe(400)
      expect((err as APIError).code).toBe('unsupported_value')
      expect((err as APIError).param).toBe('suffix')
    }
  })
})

describe('errors in OpenAI\'s shape', () => {
  const chat = { model: MODEL, messages: ask }
  // [route, body, param, code]
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ['chat', { ...chat, n: 2 }, 'n', 'unsupported_value'],
    ['chat', { ...chat, logit_bias: { 5: 1 } }, 'logit_bias', 'unsupported_value'],
    ['chat', { ...chat, audio: { voice: 'alloy', format: 'mp3' } }, 'audio', 'unsupported_parameter'],
    ['chat', { ...chat, modalities: ['text', 'audio'] }, 'modalities', 'unsupported_parameter'],
    ['chat', { ...chat, prediction: { type: 'content', content: 'x' } }, 'prediction', 'unsupported_parameter'],
    ['chat', { ...chat, service_tier: 'auto' }, 'service_tier', 'unsupported_parameter'],
    ['chat', { ...chat, store: true }, 'store', 'unsupported_parameter'],
    ['chat', { ...chat, metadata: { a: 'b' } }, 'metadata', 'unsupported_parameter'],
    ['chat', { ...chat, reasoning_effort: 'low' }, 'reasoning_effort', 'unsupported_parameter'],
    ['chat', { ...chat, functions: [{ name: 'f' }] }, 'functions', 'unsupported_parameter'],
    ['chat', { ...chat, function_call: 'auto' }, 'function_call', 'unsupported_parameter'],
    ['chat', { ...chat, web_search_options: {} }, 'web_search_options', 'unsupported_parameter'],
    ['chat', { ...chat, made_up: 1 }, 'made_up', 'unsupported_parameter'],
    ['chat', { ...chat, top_logprobs: 21, logprobs: true }, 'top_logprobs', 'unsupported_value'],
    ['chat', { ...chat, top_logprobs: 2 }, 'top_logprobs', 'unsupported_value'],
    ['chat', { ...chat, temperature: 3 }, 'temperature', 'unsupported_value'],
    ['chat', { ...chat, top_p: 'high' }, 'top_p', 'unsupported_value'],
    ['chat', { ...chat, presence_penalty: 5 }, 'presence_penalty', 'unsupported_value'],
    ['chat', { ...chat, tool_choice: 'sometimes', tools: [WEATHER] }, 'tool_choice', 'unsupported_value'],
    ['chat', { ...chat, tools: [{ type: 'function' }] }, 'tools', 'unsupported_value'],
    ['chat', { ...chat, response_format: { type: 'xml' } }, 'response_format', 'unsupported_value'],
    ['chat', { model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }] }, 'messages[0].content[0].type', 'unsupported_value'],
    ['chat', { model: MODEL, messages: [{ role: 'assistant', tool_calls: 'x' }] }, 'messages', 'unsupported_value'],
    ['completions', { model: MODEL, prompt: 'x', echo: true }, 'echo', 'unsupported_value'],
    ['completions', { model: MODEL, prompt: 'x', suffix: 'y' }, 'suffix', 'unsupported_value'],
    ['completions', { model: MODEL, prompt: 'x', best_of: 3 }, 'best_of', 'unsupported_value'],
    ['completions', { model: MODEL, prompt: [1, 2, 3] }, 'prompt', 'unsupported_value'],
    ['completions', { model: MODEL, prompt: 'x', n: 3 }, 'n', 'unsupported_value'],
    ['completions', { model: MODEL, prompt: ['a', 'b'], stream: true }, 'prompt', 'unsupported_value'],
    ['completions', { model: MODEL, prompt: 'x', messages: [] }, 'messages', 'unsupported_parameter'],
  ]
  test.each(cases)('%s %j: 400 on %s (%s)', async (route, body, param, code) => {
    const post = route === 'chat' ? client.chat.completions.create(body as never) : client.completions.create(body as never)
    const err = await (post as Promise<unknown>).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(APIError)
    const e = err as APIError
    expect(e.status).toBe(400)
    expect(e.type).toBe('invalid_request_error')
    expect(e.code).toBe(code)
    expect(e.param).toBe(param)
    // Words a person wrote, never the validator's.
    expect(e.message).not.toMatch(/must be equal to constant|must be null|must match|schema is false|instancePath|Expected/i)
    expect(e.message).toContain(param.split('[')[0])
  })
})

describe('gryphgen chat', () => {
  const settings = ['--max-tokens', '8', '--temperature', '0.8', '--seed', '3']
  const expected = async (messages: OpenAI.ChatCompletionMessageParam[]): Promise<string> =>
    (await client.chat.completions.create({ model: MODEL, messages, max_tokens: 8, temperature: 0.8, seed: 3 })).choices[0].message.content ?? ''

  test('--json answers one message with the chat.completion object', async () => {
    const r = await runCli(['chat', MODEL, 'hello there', '--json', '--data-dir', b.config.dataDir, ...settings])
    expect(r.code, r.stderr).toBe(0)
    const reply = JSON.parse(r.stdout) as OpenAI.ChatCompletion
    expect(reply.object).toBe('chat.completion')
    expect(reply.choices[0].message.content).toBe(await expected([{ role: 'user', content: 'hello there' }]))
    const bad = await runCli(['chat', MODEL, 'x', '--json', '--data-dir', b.config.dataDir, '--temperature', 'hot'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--temperature')
  })

  test('interactive: each line is a turn, answers stream out, the conversation is kept', async () => {
    const child = spawn(process.execPath, [BIN, 'chat', MODEL, '--data-dir', b.config.dataDir, ...settings], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
    const kill = setTimeout(() => { if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL') }, PATIENCE_MS)
    try {
      child.stdin.end('hello\nagain\n')
      expect(await exited, stderr).toBe(0)
    } finally {
      clearTimeout(kill)
    }
    const first = await expected([{ role: 'user', content: 'hello' }])
    const second = await expected([{ role: 'user', content: 'hello' }, { role: 'assistant', content: first }, { role: 'user', content: 'again' }])
    expect(stdout).toBe(`${first}\n${second}\n`)
  })
})
