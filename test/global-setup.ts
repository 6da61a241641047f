/**
 * Build dist/ once before the tests: the process tests run `bin/gryphgen.js`, as users do; and
 * the dashboard (dashboard/build/), which the nodes serve and the browser tests load.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup (): void {
  const root = fileURLToPath(new URL('..', import.meta.url))
  execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-dashboard.ts'], { cwd: root, stdio: 'inherit' })
}
