import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readGgufHeader, testVocabulary, writeTestModel, SPECIAL_TOKENS, TEST_MODEL_SHAPES } from '../../models/index.js'
import { float16Bits } from '../../models/testmodel/random.js'
import { modelTempDir, removeModelTempDirs } from './helpers.js'

let dir: string
beforeAll(async () => { dir = await modelTempDir() })
afterAll(removeModelTempDirs)

describe('test models', () => {
  test('the same options write a byte-identical file; another seed, other weights', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(async (name, i) => {
      const info = await writeTestModel({ path: join(dir, `${name}.gguf`), seed: i === 2 ? 43 : 42 })
      return { info, bytes: await readFile(info.path) }
    }))
    expect(a.bytes.equals(b.bytes)).toBe(true)
    expect(a.bytes.length).toBe(a.info.bytes)
    const { dataOffset } = await readGgufHeader(a.info.path)
    expect(c.bytes.length).toBe(a.bytes.length)
    expect(c.bytes.subarray(dataOffset).equals(a.bytes.subarray(dataOffset))).toBe(false)
  })

  test.each([['q4_0', 2, 'Q4_0'], ['q8_0', 7, 'Q8_0'], ['f16', 1, 'F16']] as const)('quant %s is readable with file type %i', async (quant, fileType, tensorType) => {
    const info = await writeTestModel({ path: join(dir, `${quant}.gguf`), quant, seed: 5 })
    const header = await readGgufHeader(info.path)
    expect(header).toMatchObject({ fileType, quantization: tensorType, parameterCount: info.parameterCount, fileBytes: info.bytes })
    expect(header.tensors.find(t => t.name === 'output.weight')?.type).toBe(tensorType)
    expect(header.tensors.find(t => t.name === 'output_norm.weight')?.type).toBe('F32')
  })

  test('its vocabulary: special tokens, the 256 byte tokens, then unique normal tokens', () => {
    for (const size of [TEST_MODEL_SHAPES.tiny.vocabSize, TEST_MODEL_SHAPES['1b'].vocabSize]) {
      const { tokens, scores, types } = testVocabulary(size)
      expect([tokens.length, scores.length, types.length]).toEqual([size, size, size])
      expect(new Set(tokens).size).toBe(size)
      const first = Object.keys(SPECIAL_TOKENS).length
      expect(tokens.slice(first, first + 256)).toEqual(Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`))
      expect(new Set(types.slice(first, first + 256))).toEqual(new Set([6]))
      expect(new Set(types.slice(first + 256))).toEqual(new Set([1]))
    }
  })

  test('half-precision bits round to nearest even, with subnormals, overflow and signs', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [1 / 3, 0x3555], [65504, 0x7bff], [65520, 0x7c00], [-1e6, 0xfc00],
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -26, 0x0001], [6e-5, 0x03ef], [-0, 0x8000], [NaN, 0x7e00],
    ]
    expect(cases.map(([v]) => float16Bits(v))).toEqual(cases.map(([, bits]) => bits))
  })

  test('invalid options are a ModelOptionsError listing every problem', async () => {
    const options = { path: join(dir, 'bad.gguf'), shape: '7b', seed: -1, quant: 'q2' } as unknown as Parameters<typeof writeTestModel>[0]
    await expect(writeTestModel(options)).rejects.toMatchObject({ name: 'ModelOptionsError', problems: [expect.any(String), expect.any(String), expect.any(String)] })
  })
})
