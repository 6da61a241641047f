/**
 * The README's quick start: `npm start` runs the node, and a signal to npm's process (what a
 * terminal, a supervisor or `kill PID` sends) stops the node and its workers; nothing is left
 * running and the data dir is left clean. A launcher killed outright takes the node with it.
 */
import { access, mkdir, stat, writeFile } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import { PATIENCE_MS, removeTempDirs, tempDir, waitFor } from '../helpers/nodes.js'
import { killAll, pidsMentioning, spawnNpmStart, waitReady } from '../helpers/processes.js'

afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

async function startedByNpm (): Promise<{ dir: string, npm: ReturnType<typeof spawnNpmStart> }> {
  const dir = await tempDir('gryphgen-npm-start-')
  const npm = spawnNpmStart(dir)
  await waitReady(npm, 4 * PATIENCE_MS) // a first start may compile dist/
  // The node and its worker processes all name the data dir on their command lines.
  await waitFor(async () => (await pidsMentioning(dir)).length >= 2, PATIENCE_MS, 500)
  return { dir, npm }
}

describe('npm start', () => {
  test('SIGTERM to the npm process stops the node and its workers, leaving a clean data dir', async () => {
    const { dir, npm } = await startedByNpm()
    const exited = new Promise<number | null>(resolve => npm.child.once('exit', resolve))
    npm.child.kill('SIGTERM')
    await exited
    await waitFor(async () => (await pidsMentioning(dir)).length === 0, PATIENCE_MS, 500)
    expect(npm.output()).toContain('stopped')
    await expect(access(join(dir, 'api-port'))).rejects.toThrow()
    await expect(access(join(dir, 'workers.sock'))).rejects.toThrow()
  })

  test('a launcher killed with SIGKILL takes the node with it', async () => {
    const { dir, npm } = await startedByNpm()
    npm.child.kill('SIGKILL')
    await waitFor(async () => (await pidsMentioning(dir)).length === 0, PATIENCE_MS, 500)
    expect(await pidsMentioning(dir)).toEqual([])
  })
})

test('npm run scripts take relative paths from where the user ran them', async () => {
  const caller = await tempDir('gryphgen-npm-caller-')
  await mkdir(join(caller, 'answer'))
  await writeFile(join(caller, 'answer', 'main.py'), 'print(1)\n')
  const repo = fileURLToPath(new URL('../..', import.meta.url))
  await promisify(execFile)('npm', ['run', '--silent', '--prefix', repo, 'make-test-model', '--', '--out', 'scripted.gguf', '--answer-files', 'answer'], { cwd: caller, timeout: 2 * PATIENCE_MS })
  expect((await stat(join(caller, 'scripted.gguf'))).size).toBeGreaterThan(0)
})
