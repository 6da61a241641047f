import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeTestModel } from '../../models/index.js'
import { tempDir, removeTempDirs } from '../helpers/nodes.js'
import { runCli, killAll, type CliResult } from '../helpers/processes.js'

// The model commands work on the data dir itself: no node runs here.
let dir: string
let model: string
beforeAll(async () => {
  dir = await tempDir()
  model = join(dir, 'tiny.gguf')
  await writeTestModel({ path: model, seed: 5 })
})
afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

const cli = async (...args: string[]): Promise<CliResult> => runCli(['model', ...args, '--data-dir', join(dir, 'data')])
const json = <T>(r: CliResult): T => {
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as T
}
interface Listed { name: string, digest: string, linked: boolean, available: boolean, quantization: string }

describe('gryphgen model', () => {
  test('add, list (table and JSON), add again (no-op), rm', async () => {
    const added = json<{ model: Listed, added: boolean }>(await cli('add', model, '--name', 'tiny', '--json'))
    expect(added).toMatchObject({ added: true, model: { name: 'tiny', linked: false, available: true, quantization: 'Q4_0' } })
    expect(added.model.digest).toMatch(/^[0-9a-f]{64}$/)
    const again = await cli('add', model, '--name', 'tiny')
    expect(again.code, again.stderr).toBe(0)
    const listed = json<{ models: Listed[] }>(await cli('list', '--json'))
    expect(listed.models).toEqual([expect.objectContaining({ name: 'tiny', digest: added.model.digest })])
    const table = await cli('list')
    expect(table.code).toBe(0)
    expect(table.stdout).toContain('tiny')
    const removed = await cli('rm', 'tiny')
    expect(removed.code, removed.stderr).toBe(0)
    expect(json<{ models: Listed[] }>(await cli('list', '--json')).models).toEqual([])
  })

  test('a file that is not GGUF fails (exit 1) naming the error; nothing is added', async () => {
    const text = join(dir, 'notes.txt')
    await writeFile(text, 'hello\n')
    const r = await cli('add', text)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('InvalidModelFileError')
    expect(r.stderr).toContain(text)
    expect(json<{ models: Listed[] }>(await cli('list', '--json')).models).toEqual([])
  })

  test('an unknown name fails (exit 1); a bad name or URI is a usage error (exit 2)', async () => {
    const [unknown, badName, badUri] = await Promise.all([
      cli('rm', 'nope'), cli('add', model, '--name', 'bad name'), cli('pull', 'ftp://example.com/m.gguf'),
    ])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('ModelNotFoundError')
    expect(badName.code).toBe(2)
    expect(badName.stderr).toContain('InvalidModelNameError')
    expect(badUri.code).toBe(2)
    expect(badUri.stderr).toContain('InvalidModelUriError')
  })
})
