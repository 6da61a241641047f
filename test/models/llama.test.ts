/** Generated test models in the real node-llama-cpp: they load, generate repeatably with a seed, and embed; a scripted model answers with its script. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { join } from 'node:path'
import { getLlama, LlamaChatSession, LlamaCompletion, type Llama, type LlamaContext, type LlamaModel } from 'node-llama-cpp'
import { writeScriptedModel, writeTestModel } from '../../models/index.js'
import { modelTempDir, physicalCores, removeModelTempDirs } from './helpers.js'

let llama: Llama
// A 64-wide model gains nothing from more threads, and vitest runs test files side by side:
// a second spinning llama.cpp thread on a busy 2-core machine made 24 tokens take seconds, not ms.
const threads = 1
const models: LlamaModel[] = []
const contexts: LlamaContext[] = []

beforeAll(async () => {
  const dir = await modelTempDir()
  const [cores, a, b] = await Promise.all([
    physicalCores(),
    writeTestModel({ path: join(dir, 'a.gguf'), seed: 11 }),
    writeTestModel({ path: join(dir, 'b.gguf'), seed: 12, quant: 'q8_0' }),
  ])
  llama = await getLlama({ maxThreads: cores })
  for (const info of [a, b]) {
    const model = await llama.loadModel({ modelPath: info.path })
    models.push(model)
    contexts.push(await model.createContext({ contextSize: 256, sequences: 2, threads }))
  }
})

afterAll(async () => {
  for (const context of contexts) await context.dispose()
  for (const model of models) await model.dispose()
  await llama?.dispose()
  await removeModelTempDirs()
})

async function complete (context: LlamaContext, seed: number): Promise<string> {
  const sequence = context.getSequence()
  try {
    return await new LlamaCompletion({ contextSequence: sequence }).generateCompletion('def main():', { maxTokens: 24, temperature: 0.8, seed })
  } finally {
    sequence.dispose()
  }
}

describe('test models in node-llama-cpp', () => {
  test('load with their metadata and tokenize any text reversibly', () => {
    const [model] = models
    expect(model.trainContextSize).toBe(1024)
    expect(model.fileInfo.metadata.general.name).toBe('gryphgen-test-tiny-q4_0-seed11')
    const text = 'Hello, wörld! 👋\n\tx = [1, 2]  # ok'
    expect(model.detokenize(model.tokenize(text))).toBe(text)
  })

  test('a completion with a fixed seed is the same twice; another seed or another model differs', async () => {
    const first = await complete(contexts[0], 7)
    expect(await complete(contexts[0], 7)).toBe(first)
    expect(await complete(contexts[0], 8)).not.toBe(first)
    expect(await complete(contexts[1], 7)).not.toBe(first)
  })

  test('embeddings are deterministic vectors of the embedding length', async () => {
    const embedding = await models[0].createEmbeddingContext({ contextSize: 128, threads })
    try {
      const a = await embedding.getEmbeddingFor('function add(a, b) { return a + b }')
      expect(a.vector).toHaveLength(64)
      expect(a.vector.every(Number.isFinite)).toBe(true)
      expect((await embedding.getEmbeddingFor('function add(a, b) { return a + b }')).vector).toEqual(a.vector)
      expect((await embedding.getEmbeddingFor('SELECT 1')).vector).not.toEqual(a.vector)
    } finally {
      await embedding.dispose()
    }
  })

  test('a chat session picks ChatML from the template and answers', async () => {
    const sequence = contexts[1].getSequence()
    try {
      const session = new LlamaChatSession({ contextSequence: sequence, systemPrompt: 'Be brief.' })
      expect(session.chatWrapper.wrapperName).toBe('ChatML')
      expect(typeof await session.prompt('Hi', { maxTokens: 8, seed: 1, temperature: 0.8 })).toBe('string')
    } finally {
      sequence.dispose()
    }
  })

  test('a scripted model answers any prompt with its script, under a JSON-schema grammar too, at any temperature', async () => {
    const path = join(await modelTempDir(), 'scripted.gguf')
    const pieces = ['{"answer":', ' "forty two"}']
    await writeScriptedModel({ path, pieces })
    const model = await llama.loadModel({ modelPath: path })
    const context = await model.createContext({ contextSize: 1024, threads })
    try {
      const session = new LlamaChatSession({ contextSequence: context.getSequence(), systemPrompt: 'Be brief.' })
      const grammar = await llama.createGrammarForJsonSchema({ type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false })
      for (const [prompt, temperature] of [['What is six times seven?', 0], ['Anything else', 1]] as const) {
        session.resetChatHistory()
        expect(await session.prompt(prompt, { maxTokens: 16, temperature, seed: 3 })).toBe(pieces.join(''))
      }
      session.resetChatHistory()
      expect(session.chatWrapper.wrapperName).toBe('ChatML')
      expect(grammar.parse(await session.prompt('Answer in JSON', { maxTokens: 16, grammar, temperature: 1 }))).toEqual({ answer: 'forty two' })
    } finally {
      await context.dispose()
      await model.dispose()
    }
  })

  test('a scripted model refuses pieces that are not tokens of their own', async () => {
    const path = join(await modelTempDir(), 'bad.gguf')
    await expect(writeScriptedModel({ path, pieces: [] })).rejects.toMatchObject({ name: 'ModelOptionsError' })
    await expect(writeScriptedModel({ path, pieces: ['x', 'x'] })).rejects.toMatchObject({ name: 'ModelOptionsError', message: expect.stringMatching(/twice/) })
    await expect(writeScriptedModel({ path, pieces: ['a'] })).rejects.toMatchObject({ name: 'ModelOptionsError', message: expect.stringMatching(/not a token of its own/) })
  })
})
