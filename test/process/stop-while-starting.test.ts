/**
 * A signal that reaches `gryphgen start` while the node is still starting (its worker
 * processes are up, the API is not yet answering) is a clean stop, not a failure: exit code 0,
 * no error printed, nothing left running. (Before the fix the start's own PoolStoppedError was
 * printed and the process exited 1, which a supervisor reads as a crash.)
 */
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { PATIENCE_MS, removeTempDirs, tempDir, waitFor } from '../helpers/nodes.js'
import { killAll, pidsMentioning, spawnNode } from '../helpers/processes.js'

afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

const exists = async (path: string): Promise<boolean> => access(path).then(() => true, () => false)

test('SIGTERM during start-up stops the node cleanly with exit code 0', async () => {
  const dir = await tempDir('gryphgen-stop-starting-')
  const node = spawnNode(dir)
  const exited = new Promise<number | null>(resolve => node.child.once('exit', resolve))
  // The node and its worker processes all name the data dir on their command lines; a worker
  // is running once there are two of them.
  await waitFor(async () => (await pidsMentioning(dir)).length >= 2, 2 * PATIENCE_MS, 20)
  const startedAlready = await exists(join(dir, 'api-port'))
  node.child.kill('SIGTERM')
  expect(await exited).toBe(0)
  // Nothing at error level (pino 50/60), and not the CLI's error line (`gryphgen: NameError: ...`).
  expect(node.output()).not.toMatch(/"level":(50|60)|^gryphgen: /m)
  await waitFor(async () => (await pidsMentioning(dir)).length === 0, PATIENCE_MS, 200)
  // Say which window the signal hit, so a run that only ever stops a started node is visible.
  console.info(startedAlready ? 'signal after the start completed' : 'signal during start-up')
}, 4 * PATIENCE_MS)
