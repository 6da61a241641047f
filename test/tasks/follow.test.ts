/**
 * Log lines of a run on another node reach a watcher who subscribes only once the task
 * already runs there (the dashboard opening a running task's page; `logs --follow` late).
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { GryphgenNode } from '../../node/node.js'
import { loadOrCreateApiToken } from '../../node/datadir/index.js'
import { newSwarmKeyHex, nodeTracker, waitFor } from '../helpers/nodes.js'

const nodes = nodeTracker()
let a: GryphgenNode // asked; runs nothing (no exec workers)
let b: GryphgenNode // runs the task

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  a = await nodes.start({ swarmKey, name: 'a' })
  b = await nodes.start({ swarmKey, name: 'b', bootstrap: a.addresses(), execWorkers: 1, labels: ['runner'] })
  await waitFor(() => a.peers().some(p => p.peerId === b.peerId && p.capabilities.sandbox?.available === true))
})
afterAll(async () => { await nodes.stopAll() })

test('a watcher who comes while the task already runs on another node gets its log lines', async () => {
  const token = await loadOrCreateApiToken(a.config.dataDir)
  const { id } = await a.tasks.submit({ kind: 'exec', command: ['sh', '-c', 'sleep 2; for i in $(seq 1 10); do echo late-$i; sleep 0.5; done'], requirements: { cpus: 1, memoryMb: 64, labels: ['runner'] } }, {})
  await waitFor(async () => (await a.tasks.get(id)).state === 'running', 60_000, 50)
  const res = await fetch(`${a.apiUrl}/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(120_000) })
  const text = await res.text() // ends with the task
  expect(text).toMatch(/"state":"succeeded"/)
  expect((await a.tasks.get(id)).attempts.at(-1)?.node).toBe(b.peerId)
  expect(text).toMatch(/^data: \{"task":"[^"]+","stream":"stdout","line":"late-\d+"\}$/m)
})
