/** The node side of models, pure parts: OpenAI request checks and conversions, mesh models, settings, the analysis answer. */
import { describe, expect, test } from 'vitest'
import { chatChunk, chatTaskBody, embeddingsReply, parseChatRequest, parseEmbeddingsRequest, requireModel } from '../../node/api/openai-convert.js'
import { advertisedModels, autoThreads, hostSettings, meshModels } from '../../node/models/index.js'
import { analysisMessages, parseAnalysis } from '../../node/kinds/analyze.js'
import { packFloat32, unpackFloat32 } from '../../node/kinds/vectors.js'
import { defaultConfig } from '../../node/config/defaults.js'

const problem = (fn: () => unknown): { name: string, message: string, param: string | null, code: string | null } => {
  try { fn() } catch (err) { return err as never }
  throw new Error('expected an error')
}

describe('OpenAI requests', () => {
  test('a chat request becomes a generate task body', () => {
    const body = chatTaskBody(parseChatRequest({
      model: 'm', messages: [{ role: 'developer', content: 'Be terse.' }, { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }],
      max_completion_tokens: 9, max_tokens: 99, temperature: 0.2, top_p: 0.9, seed: 4, stop: 'END', response_format: { type: 'json_object' }, stream: null,
    }))
    expect(body).toEqual({
      kind: 'generate', model: 'm', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'ab' }],
      maxTokens: 9, temperature: 0.2, topP: 0.9, seed: 4, stop: ['END'], jsonSchema: { type: 'object', additionalProperties: true },
    })
  })

  test('unknown and unsupported parameters are refused by name', () => {
    const unknown = problem(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], store: true, functions: [] }))
    expect(unknown).toMatchObject({ name: 'InvalidRequestError', param: 'store', code: 'unsupported_parameter' })
    expect(unknown.message).toMatch(/`store`.*supported: model, messages/)
    expect(problem(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 }))).toMatchObject({ param: 'n', code: 'unsupported_value' })
    expect(problem(() => parseChatRequest({ model: 'm', messages: [{ role: 'tool', content: 'x' }] }))).toMatchObject({ param: 'messages', code: 'unsupported_value' })
    expect(problem(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] })).param).toBe('messages[0].content[0].type')
    expect(problem(() => parseChatRequest({ model: 'm', messages: [] })).param).toBe('messages')
    expect(problem(() => parseEmbeddingsRequest({ model: 'm', input: [[1, 2]] })).param).toMatch(/^input/)
    expect(problem(() => parseChatRequest('x')).name).toBe('InvalidRequestError')
  })

  test('an unknown model is a 404 naming the ones that exist', () => {
    const models = meshModels('self', [{ name: 'a', loaded: false }], [{ peerId: 'p', models: [{ name: 'b', loaded: true }] }])
    expect(requireModel('b', models).loadedOn).toEqual(['p'])
    expect(problem(() => requireModel('c', models))).toMatchObject({ name: 'ModelNotServedError', code: 'model_not_found', param: 'model' })
    expect(problem(() => requireModel('c', models)).message).toMatch(/available: a, b/)
  })

  test('chunks and embeddings in OpenAI\'s shapes; float32 rows round-trip', () => {
    expect(chatChunk('id', 'm', 1, { content: 'x' })).toMatchObject({ object: 'chat.completion.chunk', choices: [{ delta: { content: 'x' }, finish_reason: null }] })
    expect(chatChunk('id', 'm', 1, { usage: { promptTokens: 2, completionTokens: 3 } })).toMatchObject({ choices: [], usage: { total_tokens: 5 } })
    const rows = [[0.5, -1.25, 3], [2, 0, -0.125]]
    expect(unpackFloat32(packFloat32(rows), 2, 3)).toEqual(rows)
    const reply = embeddingsReply('m', rows, 7, 'base64') as { data: Array<{ embedding: string }> }
    expect(unpackFloat32(Buffer.from(reply.data[1].embedding, 'base64'), 1, 3)).toEqual([rows[1]])
  })
})

describe('mesh models and settings', () => {
  test('models are merged by name across nodes: nodes, where loaded, fastest speed', () => {
    const [m] = meshModels('a', [{ name: 'x', loaded: true, digest: 'd1', generationTokensPerSecond: 10 }], [
      { peerId: 'b', models: [{ name: 'x', loaded: false, digest: 'd1', generationTokensPerSecond: 30 }] },
      { peerId: 'c', models: [{ name: 'x', loaded: true, digest: 'd2' }] },
    ])
    expect(m).toMatchObject({ name: 'x', nodes: ['a', 'b', 'c'], loadedOn: ['a', 'c'], digests: ['d1', 'd2'], generationTokensPerSecond: 30 })
  })

  test('threads never exceed the physical cores; auto budget is half the memory', () => {
    const models = defaultConfig().models
    expect(autoThreads(2)).toBe(2)
    expect(hostSettings({ ...models, threads: 64 }, { physicalCores: 4, totalMemoryMb: 16_000 })).toMatchObject({ threads: 4, memoryBudgetMb: 8000 })
    expect(hostSettings(models, { physicalCores: 0, totalMemoryMb: 100 })).toMatchObject({ threads: 1, memoryBudgetMb: 256 })
  })
})

test('an advert carries as many models as fit its budget, loaded ones first', () => {
  const models = Array.from({ length: 100 }, (_, i) => ({ name: `model-${String(i).padStart(3, '0')}`, digest: 'a'.repeat(64), sizeMb: 600, quantization: 'Q4_K_M', contextLength: 4096, loaded: i === 99 }))
  const carried = advertisedModels(models)
  expect(JSON.stringify(carried).length).toBeLessThanOrEqual(4096)
  expect(carried.length).toBeGreaterThan(10)
  expect(carried[0].name).toBe('model-099')
  expect(carried[1].name).toBe('model-000')
})

describe('analyze', () => {
  test('the code goes with numbered lines; the answer is parsed or refused with its cause', () => {
    const [, user] = analysisMessages('a\nb', undefined, 'js')
    expect(user.content).toContain('1| a\n2| b')
    expect(parseAnalysis('{"issues":[{"severity":"error","line":2,"message":"m"}],"summary":"s"}', 'stop').issues[0].line).toBe(2)
    expect(() => parseAnalysis('{"issues":[', 'length')).toThrow(/cut off at maxTokens/)
    expect(() => parseAnalysis('{"issues":[{"severity":"fatal","line":1,"message":"m"}],"summary":"s"}', 'stop')).toThrow(/analysis shape/)
  })
})
