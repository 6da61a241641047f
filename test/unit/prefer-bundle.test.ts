/**
 * workers/entry.ts: a process entry runs its esbuild bundle only when the bundle is not older
 * than the last tsc build; a bundle older than the build (tsc ran alone since) would run stale
 * code, so the plain entry runs. Real files with set mtimes.
 */
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { preferBundle } from '../../workers/entry.js'

let dir: string
const url = (name: string): URL => pathToFileURL(join(dir, name))
const file = async (name: string, mtimeS: number): Promise<void> => {
  await writeFile(join(dir, name), '')
  await utimes(join(dir, name), mtimeS, mtimeS)
}
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'gryphgen-bundle-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

test.each([
  ['a bundle newer than the build runs', { bundle: 200, build: 100 }, 'bundle.js'],
  ['a bundle as new as the build runs', { bundle: 100, build: 100 }, 'bundle.js'],
  ['a bundle older than the build (tsc ran alone since) does not', { bundle: 100, build: 200 }, 'entry.js'],
  ['without build info (an installed package) the bundle runs', { bundle: 100 }, 'bundle.js'],
  ['without a bundle the plain entry runs', { build: 100 }, 'entry.js'],
])('%s', async (_name, times: { bundle?: number, build?: number }, expected) => {
  await file('entry.js', 50)
  if (times.bundle !== undefined) await file('bundle.js', times.bundle)
  if (times.build !== undefined) await file('.tsbuildinfo', times.build)
  expect(preferBundle(url('entry.js'), url('bundle.js'), url('.tsbuildinfo')).href).toBe(url(expected).href)
})
