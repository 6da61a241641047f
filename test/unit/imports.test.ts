import { expect, test } from 'vitest'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Runtime (non-type) relative imports of every library file, as a graph. */
function importGraph (): Map<string, string[]> {
  const files = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' }).split('\n').filter(f => f !== '' && !f.startsWith('test/'))
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const source = readFileSync(join(root, file), 'utf8')
    const deps: string[] = []
    for (const m of source.matchAll(/^(import|export)(?! type)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)) {
      deps.push(normalize(join(dirname(file), m[2])).replace(/\.js$/, '.ts'))
    }
    graph.set(file, deps)
  }
  return graph
}

test('library code has no import cycles', () => {
  const graph = importGraph()
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[][] = []
  const visit = (file: string, path: string[]): void => {
    state.set(file, 'open')
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') cycles.push([...path.slice(path.indexOf(dep)), dep])
      else if (!state.has(dep)) visit(dep, [...path, dep])
    }
    state.set(file, 'done')
  }
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [file])
  expect(graph.size).toBeGreaterThan(20)
  expect(cycles).toEqual([])
})

test('library code never writes to the console', () => {
  const offenders = [...importGraph().keys()].filter(f => !f.startsWith('scripts/') && /\bconsole\.(log|error|warn|info|debug)\(/.test(readFileSync(join(root, f), 'utf8')))
  expect(offenders).toEqual([])
})
