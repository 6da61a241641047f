#!/usr/bin/env node
// The last step of `npm run build`: bundles the two process entries of dist/ with esbuild,
// the node's CLI (dist/bundle/main.js) and the worker process (dist/bundle/worker-main.js),
// so that a start loads a few files (chunks split at dynamic imports) instead of ~1,700
// ES modules (typebox alone is ~680 files): Node 20's ES module loader resolves, reads and
// links each file, which was most of a start's CPU. Bundled: dist/ and every ES-module
// package; left to Node (external): CommonJS packages (they load through require, which is
// cheaper, and may read files next to themselves), native ones and node-llama-cpp. Each
// bundled file's `import.meta.url` is rewritten to its original file's URL (relative to the
// bundle), so paths a module finds next to itself (package.json, sandbox assets, the worker
// entry, the dashboard) still resolve. bin/gryphgen.js and the worker pool use a bundle only
// when it is newer than the last tsc build (dist/.tsbuildinfo); without esbuild this step
// says so and the unbundled dist/ is used.
import { existsSync, readFileSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
/** Both entries go to dist/bundle/ (main.js, worker-main.js) with the chunks they share. */
const ENTRIES = ['dist/node/cli/main.js', 'dist/workers/worker-main.js']
const OUT_DIR = join(root, 'dist', 'bundle')
/** ES-module packages that must stay files of their own (they load binaries and assets next to themselves). */
const ALWAYS_EXTERNAL = new Set(['node-llama-cpp', 'zeromq', 'classic-level', 'typescript', 'tsx'])
/** CommonJS packages bundled all the same: ~200 files each (tap-parser's YAML), none read beside themselves. */
const ALWAYS_BUNDLED = new Set(['yaml', 'yaml-types'])

let esbuild
try {
  esbuild = await import('esbuild')
} catch {
  process.stderr.write('gryphgen: esbuild is not installed; dist/ stays unbundled (starts are slower)\n')
  process.exit(0)
}

const packageName = (spec) => spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]

/** The folder of package `name` as Node finds it from `from`, or undefined. */
function packageDir (name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

const isEsm = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type === 'module'

const externals = {
  name: 'gryphgen-externals',
  setup (build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true }
      const name = packageName(args.path)
      const dir = packageDir(name, args.resolveDir)
      if (dir === undefined) return undefined
      // A package kept external must be the same copy from the bundle's folder (not a nested one).
      const sameCopy = packageDir(name, join(root, 'dist')) === dir
      if (sameCopy && (ALWAYS_EXTERNAL.has(name) || (!isEsm(dir) && !ALWAYS_BUNDLED.has(name)))) return { path: args.path, external: true }
      return undefined
    })
  },
}

const ownUrls = (outDir) => ({
  name: 'gryphgen-own-urls',
  setup (build) {
    build.onLoad({ filter: /\.m?js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8')
      if (!text.includes('import.meta.url')) return undefined
      const rel = relative(outDir, args.path).split(sep).join('/')
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js', resolveDir: dirname(args.path) }
    })
  },
})

const started = Date.now()
await rm(OUT_DIR, { recursive: true, force: true })
await esbuild.build({
  entryPoints: ENTRIES.map(entry => join(root, entry)),
  outdir: OUT_DIR,
  entryNames: '[name]',
  // Code behind a dynamic import() stays in a chunk of its own, loaded when first used: a CLI
  // command does not load the node's libraries (fastify, libp2p) it never runs.
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS code bundled by accident (a nested copy) still finds `require`.
  banner: { js: "import { createRequire as __gryphgenRequire } from 'node:module'; const require = __gryphgenRequire(import.meta.url);" },
  plugins: [externals, ownUrls(OUT_DIR)],
})
process.stderr.write(`gryphgen: bundled ${ENTRIES.length} entries into dist/bundle/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
