/**
 * Live output across the mesh, with real node processes: a task submitted at A runs on B and
 * prints a line every 200 ms; a watcher at C (neither runner nor auctioneer), subscribing while
 * it already runs, gets each line as a `log` event while the task still runs, in order.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PATIENCE_MS, tempDir, removeTempDirs, waitFor } from '../helpers/nodes.js'
import { killAll, nodeApi, startNode, type NodeProcess } from '../helpers/processes.js'
import type { TaskViewT } from '../../protocols/task.js'

const CONFIG = { auction: { leaseMs: 6000, heartbeatMs: 500 }, advert: { baseIntervalMs: 2000, maxReceiveRate: 20 } }
let a: NodeProcess
let b: NodeProcess
let c: NodeProcess

beforeAll(async () => {
  const aDir = await tempDir()
  a = await startNode(aDir, { ...CONFIG, workers: { exec: { size: 0 } } })
  const address = (await nodeApi<{ addresses: string[] }>(a, 'GET', '/v1/node')).body.addresses[0]
  const dirs = [await tempDir(), await tempDir()]
  for (const d of dirs) await copyFile(join(aDir, 'swarm.key'), join(d, 'swarm.key'))
  ;[b, c] = await Promise.all([
    startNode(dirs[0], { ...CONFIG, labels: ['runner'], workers: { exec: { size: 1 } } }, address),
    startNode(dirs[1], { ...CONFIG, workers: { exec: { size: 0 } } }, address),
  ])
  const peers = async (n: NodeProcess): Promise<number> => (await nodeApi<{ peers: unknown[] }>(n, 'GET', '/v1/peers')).body.peers.length
  await waitFor(async () => (await peers(a)) === 2 && (await peers(b)) === 2 && (await peers(c)) === 2, PATIENCE_MS, 200)
})
afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

interface Line { n: number, printedAt: number, arrivedAt: number }

test('a task running on B, followed at C, streams its lines live', async () => {
  // Each line carries its number and the time it was printed (ms); at most 300 lines (60 s).
  const command = ['sh', '-c', 'i=0; while [ $i -lt 300 ]; do echo "tick $i $(date +%s%3N)"; i=$((i+1)); sleep 0.2; done']
  const { body: { id } } = await nodeApi<{ id: string }>(a, 'POST', '/v1/tasks', { kind: 'exec', command, requirements: { cpus: 1, memoryMb: 64, labels: ['runner'] } })
  const bId = (await nodeApi<{ peerId: string }>(b, 'GET', '/v1/node')).body.peerId
  // C subscribes once it knows the task runs (on B): no state change comes after that until the end.
  await waitFor(async () => {
    const v = (await nodeApi<TaskViewT>(c, 'GET', `/v1/tasks/${id}`)).body
    return v.state === 'running' && v.attempts.at(-1)?.node === bId
  }, PATIENCE_MS, 100)

  const abort = new AbortController()
  const res = await fetch(`${await c.apiUrl()}/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${await c.token()}` }, signal: abort.signal })
  const lines: Line[] = []
  const names: string[] = []
  let buffer = ''
  const deadline = Date.now() + 2 * PATIENCE_MS
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += Buffer.from(chunk).toString()
      let cut: number
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut)
        buffer = buffer.slice(cut + 2)
        const name = /^event: (\w+)$/m.exec(block)?.[1] ?? ''
        names.push(name)
        const data = /^data: (.*)$/m.exec(block)?.[1]
        const tick = name === 'log' && data !== undefined ? /^tick (\d+) (\d+)$/.exec((JSON.parse(data) as { line: string }).line) : null
        if (tick !== null) lines.push({ n: Number(tick[1]), printedAt: Number(tick[2]), arrivedAt: Date.now() })
      }
      if (lines.length >= 10 || names.includes('end') || Date.now() > deadline) break
    }
  } finally {
    abort.abort()
  }
  // Ten lines arrived while the task still ran (no end yet), consecutive and in order.
  expect(names).not.toContain('end')
  expect(lines.length).toBeGreaterThanOrEqual(10)
  const first = lines[0].n
  expect(lines.map(l => l.n)).toEqual(lines.map((_, i) => first + i))
  const latencies = lines.slice(1).map(l => l.arrivedAt - l.printedAt) // the first may be a replayed recent line
  process.stderr.write(`follow at C: line latency ms ${JSON.stringify(latencies)}\n`)
  for (const ms of latencies) expect(ms).toBeLessThan(PATIENCE_MS) // generous: live, not at the end (60 s)
  expect((await nodeApi(a, 'DELETE', `/v1/tasks/${id}`)).status).toBe(202)
})
