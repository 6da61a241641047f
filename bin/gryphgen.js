#!/usr/bin/env -S node --max-semi-space-size=4
// The gryphgen CLI. Runs the compiled code in dist/ (`npm run build`; `npm start` builds
// first); in a checkout without dist/ it compiles the TypeScript on load with tsx instead.
// --max-semi-space-size=4 keeps an idle node's memory near 115 MiB instead of ~135 MiB.
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/node/cli/main.js', import.meta.url)
if (existsSync(compiled)) {
  await import(compiled.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../node/cli/main.ts')
}
