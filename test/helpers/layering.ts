/**
 * The import rules of docs/ARCHITECTURE.md ("Layers"), as a checker over a tree of TypeScript
 * files: every relative import (type-only ones too), read as text. Pure over its input, so a
 * test can hold a fixture tree with deliberate violations against it.
 */
import { dirname, join, normalize } from 'node:path'

export interface SourceFile { path: string, text: string }
export interface Violation { rule: string, from: string, to?: string, detail?: string }

/** Parts (top-level folders, or a sub-part named by path) and the parts each may import. */
export const LAYERS: Record<string, readonly string[]> = {
  base: [],
  /** The browser app (its own tsconfig, bundled by scripts/build-dashboard.ts): talks to the node over HTTP only. */
  dashboard: [],
  protocols: ['base'],
  scheduler: ['base', 'protocols'],
  sandbox: ['base', 'protocols'],
  ledger: ['base', 'protocols'],
  blobs: ['base', 'protocols'],
  models: ['base', 'protocols'],
  'pipeline/core': ['base', 'protocols'],
  'pipeline/corpus': ['base', 'protocols'],
  workers: ['base', 'protocols', 'sandbox', 'models'],
  tasks: ['base', 'protocols', 'scheduler', 'sandbox', 'ledger', 'workers'],
  'pipeline/build': ['base', 'protocols', 'pipeline/core', 'pipeline/corpus', 'sandbox', 'ledger', 'blobs', 'tasks'],
}
/** The composition root and the entry scripts: they may import any part (through its face). */
export const ROOTS = ['node', 'scripts', 'bin']

const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm

/** The part a file belongs to: the longest LAYERS key (or root) that prefixes its path. */
export function partOf (path: string): string | undefined {
  const keys = [...Object.keys(LAYERS), ...ROOTS].filter(k => path === k || path.startsWith(`${k}/`))
  return keys.sort((a, b) => b.length - a.length)[0]
}

/** Relative imports of a file, resolved to repository paths (`.js` read as `.ts`). */
export function importsOf (file: SourceFile): string[] {
  const found: string[] = []
  for (const m of file.text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]
    found.push(normalize(join(dirname(file.path), spec)).replace(/\.js$/, '.ts'))
  }
  return found
}

export function checkLayering (files: SourceFile[]): Violation[] {
  const violations: Violation[] = []
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const deps = importsOf(file)
    graph.set(file.path, deps)
    const from = partOf(file.path)
    if (from === undefined) { violations.push({ rule: 'unknown-part', from: file.path, detail: 'a file outside every part of LAYERS and ROOTS' }); continue }
    for (const dep of deps) {
      const to = partOf(dep)
      if (to === from) continue
      if (to === undefined) { violations.push({ rule: 'unknown-part', from: file.path, to: dep }); continue }
      if (!ROOTS.includes(from)) {
        if (ROOTS.includes(to)) violations.push({ rule: 'imports-root', from: file.path, to: dep, detail: `${from} may not import the composition root (${to})` })
        else if (!LAYERS[from].includes(to)) violations.push({ rule: 'layer', from: file.path, to: dep, detail: `${from} may import only ${LAYERS[from].join(', ') || 'nothing of the project'}` })
      }
      // Another part is entered through its face (benchmarks may reach inside); the polyfill is imported for its effect.
      if (from !== 'scripts' && !dep.endsWith('/index.ts') && dep !== 'base/polyfill.ts') violations.push({ rule: 'face', from: file.path, to: dep, detail: `import ${to} through its index.ts` })
    }
  }
  for (const cycle of cyclesOf(graph)) violations.push({ rule: 'cycle', from: cycle[0], detail: cycle.join(' -> ') })
  return violations
}

/** Import cycles among the files (type-only imports count): each reported once, as a path. */
export function cyclesOf (graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[][] = []
  const visit = (file: string, path: string[]): void => {
    state.set(file, 'open')
    for (const dep of graph.get(file) ?? []) {
      if (!graph.has(dep)) continue
      if (state.get(dep) === 'open') cycles.push([...path.slice(path.indexOf(dep)), dep])
      else if (!state.has(dep)) visit(dep, [...path, dep])
    }
    state.set(file, 'done')
  }
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file, [file])
  return cycles
}
