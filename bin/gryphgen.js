#!/usr/bin/env -S node --max-semi-space-size=4
// The gryphgen CLI. Runs the compiled code in dist/ (`npm run build`; `npm start` builds
// first); in a checkout without dist/ it compiles the TypeScript on load with tsx instead.
// --max-semi-space-size=4 keeps an idle node's memory near 115 MiB instead of ~135 MiB.
// dist/bundle/main.js (`npm run build` bundles dist/ with esbuild) loads faster than the
// ~1,700 modules it holds; it is used when it is not older than the last tsc build.
import { existsSync, statSync } from 'node:fs'

const compiled = new URL('../dist/node/cli/main.js', import.meta.url)
const bundle = new URL('../dist/bundle/main.js', import.meta.url)
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs
const bundled = mtime(bundle)
const built = mtime(new URL('../dist/.tsbuildinfo', import.meta.url))
if (bundled !== undefined && (built === undefined || bundled >= built)) {
  await import(bundle.href)
} else if (existsSync(compiled)) {
  await import(compiled.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../node/cli/main.ts')
}
