/**
 * Live output across the mesh (issue 19): `npm run bench:follow`. A 3-process loopback mesh
 * (a, b, c); a task submitted at a runs on b and prints a numbered, timestamped line every
 * 200 ms; its events are followed at b (the runner's own stream: the baseline) and at c (relayed
 * from b). Prints each stream's line latency (printed -> arrived) p50/p99/max and c's ratio to b.
 * Target: every line at c within 1 s of its printing. Flags: --lines N (default 100).
 * Loopback only, mDNS off, every process stopped by PID.
 */
import { parseArgs } from 'node:util'
import { LocalMesh, api, sseBlocks, until, type MeshNode } from './bench/mesh.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values } = parseArgs({ options: { lines: { type: 'string', default: '100' } } })
const LINES = Math.min(3000, Math.max(10, Number(values.lines)))
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]

/** Latencies of the task's tick lines on one node's event stream, until the task ends. */
async function latencies (node: MeshNode, id: string, signal: AbortSignal): Promise<number[]> {
  const res = await fetch(`${node.url}/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${node.token}` }, signal })
  const out: number[] = []
  for await (const block of sseBlocks(res.body as ReadableStream<Uint8Array>)) {
    if (block.startsWith('event: end')) break
    if (!block.startsWith('event: log\n')) continue
    const line = (JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { line: string }).line
    const tick = /^tick \d+ (\d+)$/.exec(line)
    if (tick !== null) out.push(Date.now() - Number(tick[1]))
  }
  return out.slice(3) // the first few may be replayed from the runner's recent lines
}

const mesh = new LocalMesh()
try {
  const [a, b, c] = await mesh.start([
    { name: 'a', config: { workers: { exec: { size: 0 } } } },
    { name: 'b', config: { labels: ['runner'], workers: { exec: { size: 1 } } } },
    { name: 'c', config: { workers: { exec: { size: 0 } } } },
  ])
  await until(async () => ((await api<{ peers: Array<{ capabilities: { sandbox?: { available: boolean } } }> }>(a, 'GET', '/v1/peers')).peers.some(p => p.capabilities.sandbox?.available === true) ? true : undefined), 60_000, 200)
  const command = ['sh', '-c', `i=0; while [ $i -lt ${LINES} ]; do echo "tick $i $(date +%s%3N)"; i=$((i+1)); sleep 0.2; done`]
  const { id } = await api<{ id: string }>(a, 'POST', '/v1/tasks', { kind: 'exec', command, requirements: { cpus: 1, memoryMb: 64, labels: ['runner'] } })
  await until(async () => ((await api<{ state: string }>(c, 'GET', `/v1/tasks/${id}`)).state === 'running' ? true : undefined), 60_000, 50)
  const signal = AbortSignal.timeout(LINES * 200 + 120_000)
  const [atB, atC] = await Promise.all([latencies(b, id, signal), latencies(c, id, signal)])
  const row = (name: string, xs: number[]): string => `${name}: ${xs.length} lines, latency p50 ${pct(xs, 0.5)} ms, p99 ${pct(xs, 0.99)} ms, max ${Math.max(...xs)} ms`
  process.stdout.write(`${row('runner b (baseline)', atB)}\n${row('relayed to c', atC)}\n`)
  process.stdout.write(`ratio c/b p50 ${(pct(atC, 0.5) / Math.max(1, pct(atB, 0.5))).toFixed(2)}, p99 ${(pct(atC, 0.99) / Math.max(1, pct(atB, 0.99))).toFixed(2)}; lines at c within 1 s: ${atC.filter(x => x <= 1000).length}/${atC.length}\n`)
} finally {
  await mesh.stop()
}
