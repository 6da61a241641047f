/**
 * The npm package as a grid machine installs it (scripts/check-package.mjs): packed, installed
 * into a temporary prefix with `npm install -g --prefix`, started from there with /v1/health
 * answering; no TypeScript source of the product and no tsx in the installed tree, and no
 * process of the node running through tsx. Bounded: the install reads npm's cache first.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const SCRIPT = fileURLToPath(new URL('../../scripts/check-package.mjs', import.meta.url))
const LIMIT_MS = 9 * 60_000

test('the packed tarball installs into a prefix and runs compiled JavaScript only', async () => {
  const { stdout, code } = await new Promise<{ stdout: string, code: number | null }>(resolve => {
    const child = execFile(process.execPath, [SCRIPT], { timeout: LIMIT_MS, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (err, out) => {
      resolve({ stdout: out, code: err === null ? 0 : (child.exitCode ?? 1) })
    })
  })
  expect(stdout).toContain('package check: ok')
  expect(stdout).toMatch(/\/v1\/health: \{"ok":true/)
  expect(stdout).toMatch(/no product \.ts and no tsx among \d+ installed files/)
  expect(code).toBe(0)
}, LIMIT_MS + 60_000)
