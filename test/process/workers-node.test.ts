import { afterEach, expect, test } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { tempDir, removeTempDirs, waitFor } from '../helpers/nodes.js'
import { spawnNode, waitReady, runCli, stopNode, killAll, BIN } from '../helpers/processes.js'

afterEach(async () => {
  await killAll()
  await removeTempDirs()
})

interface Stats { kinds: { exec: { workers: number, external: number, size: number } } }
const workersOf = async (dir: string): Promise<Stats> => {
  const r = await runCli(['node', '--json', '--data-dir', dir])
  expect(r.code).toBe(0)
  return (JSON.parse(r.stdout) as { workers: Stats }).workers
}

test('the node runs its worker pool; an external worker joins with the data dir token; stop leaves no worker behind', async () => {
  const dir = await tempDir()
  const node = spawnNode(dir)
  await waitReady(node)
  expect((await workersOf(dir)).kinds.exec).toMatchObject({ workers: 2, size: 2, external: 0 })
  const childPids = (await import('node:fs')).readFileSync(`/proc/${node.child.pid}/task/${node.child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number)
  expect(childPids.length).toBeGreaterThanOrEqual(2)

  const external = spawn(process.execPath, [BIN, 'worker', '--data-dir', dir, '--kind', 'exec'], { stdio: 'ignore' })
  try {
    await waitFor(async () => (await workersOf(dir)).kinds.exec.external === 1, 15_000, 200)
    const intruder = await runCli(['worker', '--data-dir', dir, '--kind', 'exec'], { env: { GRYPHGEN_WORKER_TOKEN: 'x'.repeat(43) }, timeoutMs: 10_000 })
    expect(intruder.code).toBe(1)
    expect(intruder.stderr).toContain('WorkerRejectedError')
    expect((await workersOf(dir)).kinds.exec.external).toBe(1)
  } finally {
    const exited = new Promise(resolve => external.once('exit', resolve))
    external.kill('SIGTERM')
    await exited
  }
  expect(await stopNode(node)).toBe(0)
  await waitFor(() => childPids.every(pid => !existsSync(`/proc/${pid}`)), 5000, 50)
})
