/**
 * Build before the tests when a source changed (`npm run build`: dist/ and the dashboard's
 * dashboard/build/): the process tests run `bin/gryphgen.js`, as users do, and the browser
 * tests load the dashboard the nodes serve.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup (): void {
  const root = fileURLToPath(new URL('..', import.meta.url))
  execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: root, stdio: 'inherit' })
}
