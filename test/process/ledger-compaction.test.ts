import { afterEach, expect, test } from 'vitest'
import { tempDir, removeTempDirs, waitFor } from '../helpers/nodes.js'
import { killAll, nodeApi, runCli, spawnNode, waitReady } from '../helpers/processes.js'
import { newSwarmKeyHex, writeSwarmKey } from '../../node/datadir/index.js'

afterEach(async () => {
  await killAll()
  await removeTempDirs()
})

interface View { id: string, state: string, compacted?: true }

test('nothing acknowledged is lost by compaction: tasks acked 202 before a kill -9 appear, after restart and compaction, in their final state', async () => {
  const dir = await tempDir()
  await writeSwarmKey(dir, newSwarmKeyHex())
  const first = spawnNode(dir)
  await waitReady(first)
  const acked = (await Promise.all(Array.from({ length: 40 }, async () => nodeApi<{ id: string }>(first, 'POST', '/v1/tasks', { kind: 'noop' }))))
    .map(r => { expect(r.status).toBe(202); return r.body.id })
  first.child.kill('SIGKILL')
  await new Promise(resolve => first.child.once('exit', resolve))

  const node = spawnNode(dir)
  await waitReady(node)
  // Tasks the kill interrupted are taken up again (their leases lapse) and end.
  await waitFor(async () => (await Promise.all(acked.map(async id => (await nodeApi<View>(node, 'GET', `/v1/tasks/${id}`)).body))).every(v => v.state === 'succeeded'), 120_000, 250)
  await new Promise(resolve => setTimeout(resolve, 10))
  const compact = await runCli(['ledger', 'compact', '--data-dir', dir, '--older-than-ms', '0', '--json'])
  expect(compact.code, compact.stderr).toBe(0)
  expect(JSON.parse(compact.stdout).tasks).toBe(acked.length)
  for (const id of acked) expect((await nodeApi<View>(node, 'GET', `/v1/tasks/${id}`)).body).toMatchObject({ id, state: 'succeeded', compacted: true })
  const history = await nodeApi<{ compacted?: boolean, entries: unknown[], summary?: { state: { state: string } } }>(node, 'GET', `/v1/tasks/${acked[0]}/history`)
  expect(history.body).toMatchObject({ compacted: true, entries: [], summary: { state: { state: 'succeeded' } } })
  const status = await runCli(['ledger', 'status', '--data-dir', dir, '--json'])
  expect(JSON.parse(status.stdout)).toMatchObject({ compactedTasks: acked.length, liveEntries: 0, oldestLiveEntry: null })
  expect(JSON.parse(status.stdout).bytesOnDisk).toBeGreaterThanOrEqual(0)
  const shown = await runCli(['status', acked[0], '--data-dir', dir])
  expect(shown.stdout).toContain('compacted')
  // Pages of the list go through compacted tasks like live ones.
  const seen: string[] = []
  let cursor: string | undefined
  do {
    const page = await nodeApi<{ tasks: View[], nextCursor?: string }>(node, 'GET', `/v1/tasks?limit=7${cursor === undefined ? '' : `&cursor=${cursor}`}`)
    seen.push(...page.body.tasks.map(t => t.id))
    cursor = page.body.nextCursor
  } while (cursor !== undefined)
  expect(seen.sort()).toEqual([...acked].sort())
  expect((await nodeApi<{ error: { name: string } }>(node, 'GET', '/v1/tasks?cursor=bm90LWEtY3Vyc29y')).body.error.name).toBe('InvalidMessageError')
})
