/**
 * Builds the dashboard (dashboard/src, Preact + uPlot) with esbuild into dashboard/build/:
 * index.html (no-cache) and assets/ with content-hashed names (served immutable). Everything
 * is bundled: the page loads nothing from any other origin. `npm run build` runs this.
 * Prints the first page's transfer size (gzip).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../dashboard/', import.meta.url))
const out = join(root, 'build')

await rm(out, { recursive: true, force: true })
await mkdir(join(out, 'assets'), { recursive: true })
const result = await build({
  entryPoints: [join(root, 'src/main.tsx')],
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(root, 'tsconfig.json'),
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
})
const outputs = Object.keys(result.metafile.outputs).map(p => basename(p))
const scripts = outputs.filter(f => f.endsWith('.js')).map(f => `<script type="module" src="/assets/${f}"></script>`)
const styles = outputs.filter(f => f.endsWith('.css')).map(f => `<link rel="stylesheet" href="/assets/${f}">`)
const html = (await readFile(join(root, 'index.html'), 'utf8')).replace('<!-- styles -->', styles.join('\n')).replace('<!-- scripts -->', scripts.join('\n'))
await writeFile(join(out, 'index.html'), html)

let gzip = gzipSync(html, { level: 9 }).byteLength
for (const f of outputs) gzip += gzipSync(await readFile(join(out, 'assets', f)), { level: 9 }).byteLength
process.stdout.write(`dashboard built: ${outputs.join(', ')}; first page ${(gzip / 1024).toFixed(1)} KiB gzip\n`)
