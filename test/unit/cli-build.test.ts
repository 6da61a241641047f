/** `gryphgen build`'s pure parts and its body: command splitting, language, the tree read, bad flags. */
import { afterAll, describe, expect, test } from 'vitest'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBody, checkpointLine, inferLanguage, splitCommand } from '../../node/cli/commands/build.js'

const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async d => rm(d, { recursive: true, force: true }))) })

describe('gryphgen build', () => {
  test('a test command splits like a shell line, quotes kept together', () => {
    expect(splitCommand(' python3 -m pytest  -q "tests dir" \'-k x\' ')).toEqual(['python3', '-m', 'pytest', '-q', 'tests dir', '-k x'])
    expect(splitCommand('node --test ""')).toEqual(['node', '--test', ''])
    expect(() => splitCommand('pytest "x')).toThrow(/unbalanced/)
    expect(inferLanguage(['python3', '-m', 'pytest'])).toBe('python')
    expect(inferLanguage(['node', '--test'])).toBe('javascript')
    expect(inferLanguage(['make', 'check'])).toBeUndefined()
  })

  test('the body carries the spec, every test file by its relative path, and the budget', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gryphgen-build-'))
    dirs.push(dir)
    await mkdir(join(dir, 'tests', 'sub'), { recursive: true })
    await mkdir(join(dir, 'tests', '__pycache__'))
    await writeFile(join(dir, 'spec.md'), 'Write add(a, b).')
    await writeFile(join(dir, 'tests', 'test_add.py'), 'from add import add\n')
    await writeFile(join(dir, 'tests', 'sub', 'conftest.py'), '')
    await writeFile(join(dir, 'tests', '__pycache__', 'x.pyc'), 'junk')
    const body = await buildBody({ spec: join(dir, 'spec.md'), tests: join(dir, 'tests'), testCommand: 'python3 -m pytest -q', model: 'm', maxAttempts: '3', maxMinutes: '2' })
    expect(body).toEqual({
      kind: 'build', specification: 'Write add(a, b).', language: 'python', model: 'm',
      tests: { files: { 'test_add.py': 'from add import add\n', 'sub/conftest.py': '' }, command: ['python3', '-m', 'pytest', '-q'] },
      budget: { maxAttempts: 3, maxWallMs: 120_000 },
    })
    await expect(buildBody({ spec: join(dir, 'nope.md'), tests: join(dir, 'none'), testCommand: 'make', model: 'm', maxAttempts: 'x' }))
      .rejects.toMatchObject({ name: 'UsageError', details: [expect.stringMatching(/--spec/), expect.stringMatching(/--tests/), expect.stringMatching(/--language/), expect.stringMatching(/--max-attempts/)] })
  })

  test('a checkpoint is one line with tests and the decision', () => {
    expect(checkpointLine({ step: 2, attempt: 1, node: 'n', at: '', basedOn: 1, files: { 'a.py': { digest: 'd', size: 1 } }, summary: { tests: { passed: 3, failed: 1, errored: 0 }, decision: { action: 'repair', reason: '1 test fails' } } }))
      .toBe('attempt 2 (from 1): 1 files, tests 3/4 passed; repair: 1 test fails')
  })
})
