/**
 * The auction on a real 5-node loopback mesh (in-process nodes, real worker processes and
 * sandboxes): placement by load, GPU and label requirements, priority overtaking, cancel
 * reaching the sandbox, impossible requirements reported with reasons.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { newSwarmKeyHex, nodeTracker, PATIENCE_MS, waitFor } from '../helpers/nodes.js'
import type { GryphgenNode } from '../../node/node.js'
import type { TaskViewT } from '../../protocols/task.js'

const nodes = nodeTracker()
let all: GryphgenNode[] = []
let [a, gpu, ci] = all
// Bids may take 5 s (default 0.5 s): five nodes share this process's event loop, which on a
// busy machine answers a peer's bid request later than 0.5 s; a late bid is no bid, and the
// placement tests would then test the load average, not placement by load.
const AUCTION = { bidTimeoutMs: 5000 }
const GPU = [{ vendor: 'nvidia', model: 'Declared Test GPU', vramMb: 16_000 }]

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  a = await nodes.start({ swarmKey, execWorkers: 1, name: 'a', auction: AUCTION })
  const boot = a.addresses()
  const rest = await Promise.all([
    nodes.start({ swarmKey, bootstrap: boot, execWorkers: 1, name: 'gpu', resources: { gpus: GPU }, auction: AUCTION }),
    nodes.start({ swarmKey, bootstrap: boot, execWorkers: 1, name: 'ci', labels: ['ci'], auction: AUCTION }),
    nodes.start({ swarmKey, bootstrap: boot, execWorkers: 1, name: 'd', auction: AUCTION }),
    nodes.start({ swarmKey, bootstrap: boot, execWorkers: 1, name: 'e', auction: AUCTION }),
  ])
  ;[gpu, ci] = rest
  all = [a, ...rest]
  // Every node knows every other, with the sandbox probed (exec needs it). Five nodes in one
  // process beside another test file on a busy machine can take over a minute to get there.
  await waitFor(() => all.every(n => n.peers().length === 4 && n.peers().every(p => p.capabilities.sandbox?.available === true)), 2 * PATIENCE_MS).catch((err: Error) => {
    throw new Error(`${err.message}; peers seen: ${all.map(n => `${n.config.name}=${n.peers().length} (sandboxed ${n.peers().filter(p => p.capabilities.sandbox?.available === true).length}, connections ${n.mesh.getConnections().length}, gossipsub peers ${n.mesh.services.pubsub.getPeers().length})`).join(', ')}`)
  })
}, 4 * PATIENCE_MS)
afterAll(async () => { clearInterval(watchdog); await nodes.stopAll() })

// Diagnostics for a rare stall seen twice (every ledger write of a node pending; see the
// session notes): a test running over 20 s prints what the process is waiting on.
let testStart = Date.now()
beforeEach(() => { testStart = Date.now() })
const watchdog = setInterval(() => {
  if (Date.now() - testStart < 20_000) return
  const counts: Record<string, number> = {}
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1
  process.stderr.write(`auction.test watchdog: test running ${Date.now() - testStart} ms; active resources ${JSON.stringify(counts)}; ledger entries at a: ${a?.ledgerStatus().entries}\n`)
}, 10_000)
watchdog.unref()

async function done (node: GryphgenNode, id: string, timeoutMs = 20_000): Promise<TaskViewT> {
  await waitFor(async () => ['succeeded', 'failed', 'cancelled'].includes((await node.tasks.get(id)).state), timeoutMs, 50)
  return node.tasks.get(id)
}
const winner = (t: TaskViewT): string => t.attempts[t.attempts.length - 1].node
const sleep = (seconds: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ kind: 'exec', command: ['sleep', String(seconds)], requirements: { cpus: 1, memoryMb: 64 }, ...extra })

describe('auction on a 5-node mesh', () => {
  test('tasks submitted at one node spread across the nodes by load', async () => {
    const ids = []
    for (let i = 0; i < 10; i++) ids.push((await a.tasks.submit(sleep(0.6), {})).id)
    const views = await Promise.all(ids.map(async id => done(a, id)))
    expect(views.map(v => v.state)).toEqual(new Array(10).fill('succeeded'))
    const perNode = new Map<string, number>()
    for (const v of views) perNode.set(winner(v), (perNode.get(winner(v)) ?? 0) + 1)
    // Even is 2 each on 5 nodes with one slot each. On a busy machine a bid can miss the grace
    // window after the first one (stragglers are dropped by design) and each node's CPU reading
    // (its advert's external load) moves with what else runs, so the split is uneven; placement
    // that ignored load would put them all on one or two nodes.
    expect(perNode.size).toBeGreaterThanOrEqual(3)
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(5)
  })

  test('a GPU task runs only on the node that advertises a GPU; a label requirement is honoured', async () => {
    const gpuTasks = await Promise.all(Array.from({ length: 4 }, async () => a.tasks.submit({ kind: 'noop', requirements: { gpu: { count: 1, minVramMb: 8000 } } }, {})))
    const labelled = await Promise.all(Array.from({ length: 4 }, async () => a.tasks.submit(sleep(0.1, { requirements: { cpus: 1, memoryMb: 64, labels: ['ci'] } }), {})))
    for (const { id } of gpuTasks) expect(winner(await done(a, id))).toBe(gpu.peerId)
    for (const { id } of labelled) {
      const v = await done(a, id)
      expect(v.state).toBe('succeeded')
      expect(winner(v)).toBe(ci.peerId)
    }
  })

  test('priority 9 tasks overtake queued priority 0 tasks', async () => {
    const onCi = { cpus: 1, memoryMb: 64, labels: ['ci'] }
    const low = []
    for (let i = 0; i < 4; i++) low.push((await a.tasks.submit(sleep(0.8, { priority: 0, requirements: onCi }), {})).id)
    const high = []
    for (let i = 0; i < 2; i++) high.push((await a.tasks.submit(sleep(0.1, { priority: 9, requirements: onCi }), {})).id)
    const lows = await Promise.all(low.map(async id => done(a, id, 30_000)))
    const highs = await Promise.all(high.map(async id => done(a, id, 30_000)))
    const started = (v: TaskViewT): number => Date.parse(v.attempts[v.attempts.length - 1].startedAt ?? '')
    const lastHigh = Math.max(...highs.map(started))
    // One slot on `ci`: the first low task runs at once; of the three queued, at least two
    // (submitted before the high ones) start after both high ones.
    expect(lows.filter(v => started(v) > lastHigh).length).toBeGreaterThanOrEqual(2)
    expect([...lows, ...highs].every(v => winner(v) === ci.peerId && v.state === 'succeeded')).toBe(true)
  })

  test('cancel reaches the running sandbox', async () => {
    const marker = String(40 + Math.floor(Math.random() * 1000) / 1000)
    const { id } = await a.tasks.submit({ kind: 'exec', command: ['sleep', marker], requirements: { cpus: 1, memoryMb: 64 } }, {})
    await waitFor(async () => (await a.tasks.get(id)).state === 'running', 15_000, 25)
    const running = winner(await a.tasks.get(id))
    const runner = all.find(n => n.peerId === running) as GryphgenNode
    expect(sleeping(marker)).toBe(true)
    const cancelled = await a.tasks.cancel(id)
    expect(cancelled.state).toBe('cancelled')
    await waitFor(() => !sleeping(marker), 5_000, 50) // the sandboxed process is gone
    await waitFor(() => runner.workers.stats().kinds.exec.cancelled >= 1, 5_000)
    await expect(a.tasks.cancel(id)).rejects.toThrow(/already cancelled/)
  })

  test('a requirement no node can ever meet is reported with reasons, and the task stays pending', async () => {
    const { id } = await a.tasks.submit({ kind: 'noop', requirements: { memoryMb: 900_000_000 } }, {})
    await waitFor(async () => (await a.tasks.get(id)).blocked !== undefined, 5_000)
    const v = await a.tasks.get(id)
    expect(v.state).toBe('pending')
    expect(v.blocked?.verdict).toBe('impossible')
    // Every node judged says why (on a busy machine a peer's advert can lapse for a moment, so
    // the count judged may be under 5).
    expect(v.blocked?.nodes).toBeGreaterThanOrEqual(1)
    expect(v.blocked?.reasons[0]).toMatchObject({ check: 'memory', fit: 'never', nodes: v.blocked?.nodes })
    expect(v.blocked?.reasons[0].reason).toMatch(/needs 900000000 MB memory/)
    await a.tasks.cancel(id)
  })
})

describe('task results and events over the HTTP API', () => {
  test('a large stdout becomes a blob, fetched through any node; SSE streams states to the end', async () => {
    const token = (await readFile(join(a.config.dataDir, 'api-token'), 'utf8')).trim()
    const headers = { authorization: `Bearer ${token}` }
    const res = await fetch(`${a.apiUrl}/v1/tasks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'exec', command: ['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" x; echo; echo done >&2'], requirements: { cpus: 1, memoryMb: 64 } }) })
    expect(res.status).toBe(202)
    const { id } = await res.json() as { id: string }
    const events = await fetch(`${a.apiUrl}/v1/tasks/${id}/events`, { headers, signal: AbortSignal.timeout(20_000) })
    expect(events.headers.get('content-type')).toMatch(/text\/event-stream/)
    const text = await events.text() // the server ends the stream once the task is over
    const names = [...text.matchAll(/^event: (\w+)$/gm)].map(m => m[1])
    expect(names[0]).toBe('state')
    expect(names[names.length - 1]).toBe('end')
    expect(text).toMatch(/"state":"succeeded"/)
    const view = await (await fetch(`${a.apiUrl}/v1/tasks/${id}`, { headers })).json() as TaskViewT
    const result = view.result as { stdout: string, stderr: string, stdoutBlob: { digest: string, size: number } }
    expect(result.stderr).toBe('done\n')
    expect(result.stdout.length).toBe(16 * 1024) // the preview
    expect(result.stdoutBlob.size).toBe(100_001)
    // Fetched through the auctioneer, whichever node ran it (digest verified on arrival).
    const blob = await fetch(`${a.apiUrl}/v1/blobs/${result.stdoutBlob.digest}`, { headers })
    expect(blob.status).toBe(200)
    const bytes = Buffer.from(await blob.arrayBuffer())
    expect(bytes.length).toBe(100_001)
    expect(bytes.toString().slice(0, 100_000)).toBe('x'.repeat(100_000))
    expect((await fetch(`${a.apiUrl}/v1/blobs/${'0'.repeat(64)}`, { headers })).status).toBe(404)
  })
})

test('log lines of a run on another node stream to the events of the node that was asked', async () => {
  const token = (await readFile(join(a.config.dataDir, 'api-token'), 'utf8')).trim()
  // Labelled for ci, so it runs there, not on a (the node whose events are read).
  const { id } = await a.tasks.submit({ kind: 'exec', command: ['sh', '-c', 'echo first; sleep 1; echo second'], requirements: { cpus: 1, memoryMb: 64, labels: ['ci'] } }, {})
  const res = await fetch(`${a.apiUrl}/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20_000) })
  const text = await res.text()
  const events = [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map(m => ({ name: m[1], data: JSON.parse(m[2]) as { line?: string, stream?: string, state?: string } }))
  const logs = events.filter(e => e.name === 'log').map(e => `${e.data.stream ?? ''}:${e.data.line ?? ''}`)
  expect(logs).toEqual(expect.arrayContaining(['stdout:first', 'stdout:second']))
  // 'first' was streamed while the task still ran: a running state comes after it.
  const firstAt = events.findIndex(e => e.name === 'log' && e.data.line === 'first')
  const endAt = events.findIndex(e => e.name === 'end')
  expect(firstAt).toBeGreaterThan(-1)
  expect(firstAt).toBeLessThan(endAt)
  expect(events.slice(firstAt).some(e => e.name === 'log' && e.data.line === 'second')).toBe(true)
})

function sleeping (marker: string): boolean {
  try {
    return execFileSync('pgrep', ['-f', `sleep ${marker}`]).toString().trim().length > 0
  } catch {
    return false
  }
}
