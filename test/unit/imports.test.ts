import { describe, expect, test } from 'vitest'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkLayering, LAYERS, type SourceFile } from '../helpers/layering.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Every library and script file of the checkout (tests are not layered). */
function sources (): SourceFile[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(f => f !== '' && !f.startsWith('test/') && f !== 'vitest.config.ts')
    .map(path => ({ path, text: readFileSync(join(root, path), 'utf8') }))
}

describe('the layers of docs/ARCHITECTURE.md', () => {
  test('the code keeps them: parts import only the layers below, through their faces, with no cycles (type-only imports too)', () => {
    const files = sources()
    expect(files.length).toBeGreaterThan(100)
    expect(checkLayering(files)).toEqual([])
  })

  test('every top-level folder with code is a part or a root', () => {
    const tops = new Set(sources().map(f => f.path.split('/')[0]).filter(t => !t.endsWith('.ts')))
    const known = new Set([...Object.keys(LAYERS).map(k => k.split('/')[0]), 'node', 'scripts', 'bin'])
    expect([...tops].filter(t => !known.has(t))).toEqual([])
  })

  // A deliberate violation of each rule, in a fixture tree: the checker must report it.
  test.each([
    ['a pure part imports the node', [{ path: 'scheduler/rank.ts', text: "import { x } from '../node/index.js'" }], 'imports-root'],
    ['the bottom layer imports a part above it', [{ path: 'protocols/task.ts', text: "import type { T } from '../tasks/index.js'" }], 'layer'],
    ['a part reaches inside another', [{ path: 'tasks/service.ts', text: "import { foldTask } from '../ledger/fold.js'" }], 'face'],
    ['a dynamic import reaches inside another', [{ path: 'workers/w.ts', text: "const m = await import('../models/host/host.js')" }], 'face'],
    ['a type-only cycle', [
      { path: 'scheduler/a.ts', text: "import type { B } from './b.js'" },
      { path: 'scheduler/b.ts', text: "export type { A } from './a.js'" },
    ], 'cycle'],
    ['a file outside every part', [{ path: 'misc/util.ts', text: '' }], 'unknown-part'],
  ])('%s is reported', (_name, files, rule) => {
    expect(checkLayering(files).map(v => v.rule)).toContain(rule)
  })

  test('what the rules allow is not reported', () => {
    expect(checkLayering([
      { path: 'node/node.ts', text: "import '../base/polyfill.js'\nimport { TaskService } from '../tasks/index.js'" },
      { path: 'tasks/service.ts', text: "import { foldTask } from '../ledger/index.js'\nimport type { X } from './kinds.js'" },
      { path: 'tasks/kinds.ts', text: '' },
      { path: 'scripts/bench.ts', text: "import { inner } from '../ledger/store.js'" },
    ])).toEqual([])
  })
})

test('every file of the product is short enough to read in one sitting (300 lines at most)', () => {
  const long = sources().filter(f => !f.path.startsWith('scripts/') && f.text.split('\n').length > 300).map(f => f.path)
  expect(long).toEqual([])
})

test('library code never writes to the console', () => {
  const offenders = sources().filter(f => !f.path.startsWith('scripts/') && /\bconsole\.(log|error|warn|info|debug)\(/.test(f.text)).map(f => f.path)
  expect(offenders).toEqual([])
})
