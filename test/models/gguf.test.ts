import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  encodeGgufHeader, readGgufHeader, writeGgufFile, writeTestModel, metadataNumber, metadataString,
  type GgufContents, type GgufValue, type InvalidModelFileReason,
} from '../../models/index.js'
import { modelTempDir, removeModelTempDirs } from './helpers.js'

let dir: string
let tiny: string
beforeAll(async () => {
  dir = await modelTempDir()
  tiny = join(dir, 'tiny.gguf')
  await writeTestModel({ path: tiny, seed: 3 })
})
afterAll(removeModelTempDirs)

async function rejectsWith (path: string, reason: InvalidModelFileReason, options = {}): Promise<void> {
  await expect(readGgufHeader(path, options)).rejects.toMatchObject({ name: 'InvalidModelFileError', reason, details: { path, reason } })
}

async function variant (name: string, edit: (bytes: Buffer) => Buffer): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, edit(await readFile(tiny)))
  return path
}

describe('GGUF reader', () => {
  test('reports a test model\'s metadata from its header', async () => {
    const h = await readGgufHeader(tiny)
    expect(h).toMatchObject({
      version: 3, architecture: 'llama', name: 'gryphgen-test-tiny-q4_0-seed3', contextLength: 1024,
      fileType: 2, quantization: 'Q4_0', vocabSize: 512, alignment: 32, fileBytes: (await stat(tiny)).size,
    })
    expect(h.dataOffset % 32).toBe(0)
    expect(h.dataOffset + h.dataBytes).toBe(h.fileBytes)
    expect(h.tensors).toHaveLength(2 + 2 * 9 + 1)
    expect(h.tensors[0]).toMatchObject({ name: 'token_embd.weight', shape: [64, 512], type: 'Q4_0', offset: 0 })
    expect(h.metadata.get('tokenizer.ggml.tokens')).toEqual({ type: 'array', itemType: 'string', length: 512 })
    expect(metadataString(h.metadata, 'tokenizer.chat_template')).toContain('<|im_start|>')
    expect(metadataNumber(h.metadata, 'llama.attention.head_count_kv')).toBe(2)
  })

  test('round-trips every scalar type and reads a header longer than its first read', async () => {
    const words = Array.from({ length: 150_000 }, (_, i) => `word-${i}-ü`)
    const metadata: Array<[string, GgufValue]> = [
      ['general.architecture', { type: 'string', value: 'demo' }],
      ['u8', { type: 'uint8', value: 255 }], ['i8', { type: 'int8', value: -128 }],
      ['u16', { type: 'uint16', value: 65_535 }], ['i16', { type: 'int16', value: -32_768 }],
      ['u32', { type: 'uint32', value: 4_000_000_000 }], ['i32', { type: 'int32', value: -5 }],
      ['f32', { type: 'float32', value: 0.5 }], ['f64', { type: 'float64', value: Math.PI }], ['b', { type: 'bool', value: true }],
      ['u64', { type: 'uint64', value: 2n ** 63n }], ['i64', { type: 'int64', value: -(2n ** 40n) }],
      ['words', { type: 'array', itemType: 'string', values: words }],
      ['ints', { type: 'array', itemType: 'int64', values: [1n, 2n] }],
    ]
    const path = join(dir, 'big-header.gguf')
    const { bytes } = await writeGgufFile(path, { metadata, tensors: [{ name: 'w', shape: [3, 2], type: 'F32', data: () => [new Uint8Array(24)] }] })
    const h = await readGgufHeader(path)
    expect(h.dataOffset).toBeGreaterThan(1 << 20)
    expect(h.fileBytes).toBe(bytes)
    expect(Object.fromEntries([...h.metadata].map(([k, v]) => [k, v.type === 'array' ? v.length : v.value]))).toEqual({
      'general.architecture': 'demo', u8: 255, i8: -128, u16: 65_535, i16: -32_768, u32: 4_000_000_000, i32: -5, f32: 0.5,
      f64: Math.PI, b: true, u64: 2n ** 63n, i64: -(2n ** 40n), words: 150_000, ints: 2,
    })
    expect(h).toMatchObject({ quantization: 'F32', parameterCount: 6, vocabSize: undefined })
    await rejectsWith(path, 'header-too-large', { maxHeaderBytes: 1 << 20 })
  })

  test('rejects a text file, a wrong magic, and a missing file or a directory', async () => {
    const text = join(dir, 'notes.txt')
    await writeFile(text, 'these are not weights\n')
    await rejectsWith(text, 'not-gguf')
    await rejectsWith(await variant('magic.gguf', b => { b.write('GGML', 0); return b }), 'not-gguf')
    await writeFile(join(dir, 'empty.gguf'), '')
    await rejectsWith(join(dir, 'empty.gguf'), 'truncated')
    await rejectsWith(join(dir, 'missing.gguf'), 'unreadable')
    await mkdir(join(dir, 'folder.gguf'))
    await rejectsWith(join(dir, 'folder.gguf'), 'unreadable')
    await expect(readGgufHeader(tiny, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortedError' })
  })

  test('rejects a file cut in its header and one cut in its tensor data', async () => {
    const h = await readGgufHeader(tiny)
    for (const at of [6, 20, 300, h.dataOffset - 40]) {
      await rejectsWith(await variant(`cut-${at}.gguf`, b => b.subarray(0, at)), 'truncated')
    }
    const cut = await variant('cut-data.gguf', b => b)
    await truncate(cut, h.fileBytes - 1)
    await rejectsWith(cut, 'truncated')
  })

  test('rejects an unsupported version and absurd counts before allocating for them', async () => {
    await rejectsWith(await variant('v1.gguf', b => { b.writeUInt32LE(1, 4); return b }), 'unsupported-version')
    await rejectsWith(await variant('v4.gguf', b => { b.writeUInt32LE(4, 4); return b }), 'unsupported-version')
    await rejectsWith(await variant('tensors.gguf', b => { b.writeBigUInt64LE(2n ** 40n, 8); return b }), 'absurd-count')
    await rejectsWith(await variant('keys.gguf', b => { b.writeBigUInt64LE(2n ** 62n, 16); return b }), 'absurd-count')
    await rejectsWith(await variant('type.gguf', b => { b.writeUInt32LE(99, 24 + 8 + 'general.architecture'.length); return b }), 'malformed')
  })
})

describe('GGUF writer', () => {
  test('lays tensors out at aligned offsets that are the running total of padded sizes', () => {
    const layout = encodeGgufHeader([['general.alignment', { type: 'uint32', value: 64 }]], [
      { name: 'a', shape: [32], type: 'Q8_0' }, { name: 'b', shape: [2, 3], type: 'F16' }, { name: 'c', shape: [64, 2], type: 'Q4_0' },
    ])
    expect(layout.header.length % 64).toBe(0)
    expect(layout.tensors).toEqual([{ name: 'a', bytes: 34, offset: 0 }, { name: 'b', bytes: 12, offset: 64 }, { name: 'c', bytes: 72, offset: 128 }])
    expect(layout.dataBytes).toBe(256)
  })

  test('rejects an invalid layout, listing every problem', () => {
    const attempt = (): unknown => {
      try {
        return encodeGgufHeader([['general.alignment', { type: 'uint32', value: 3 }], ['k', { type: 'bool', value: true }], ['k', { type: 'bool', value: false }]], [
          { name: 'a', shape: [33], type: 'Q8_0' }, { name: 'b', shape: [1, 2, 3, 4, 5], type: 'F32' },
        ])
      } catch (err) {
        return err
      }
    }
    expect(attempt()).toMatchObject({ name: 'ModelOptionsError', problems: [expect.any(String), expect.any(String), expect.any(String), expect.any(String)] })
  })

  test('leaves nothing behind when the data is the wrong size or the write is aborted', async () => {
    const out = join(dir, 'writes')
    await mkdir(out)
    const contents = (size: number): GgufContents => ({ metadata: [], tensors: [{ name: 'w', shape: [4], type: 'F32', data: () => [new Uint8Array(size)] }] })
    await expect(writeGgufFile(join(out, 'short.gguf'), contents(12))).rejects.toMatchObject({ name: 'ModelOptionsError' })
    await expect(writeGgufFile(join(out, 'long.gguf'), contents(20))).rejects.toMatchObject({ name: 'ModelOptionsError' })
    await expect(writeTestModel({ path: join(out, 'aborted.gguf'), signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortedError' })
    expect(await readdir(out)).toEqual([])
    await writeGgufFile(join(out, 'ok.gguf'), contents(16))
    expect(await readdir(out)).toEqual(['ok.gguf'])
  })
})
