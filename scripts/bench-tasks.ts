/**
 * Task benchmarks (issue 6). One command: `npm run bench:tasks`. On a 5-process loopback mesh:
 *  1. submit -> running for `noop` tasks submitted one at a time at one node: p50 and p99
 *     (targets 5 ms / 25 ms), against the node's bare HTTP round trip (GET /v1/health).
 *     Submit is the client's clock just before POST; running is the winner's `started`
 *     entry time (a noop has none: its `finished`, which is later) (its HLC wall clock when it wrote it; one machine, one clock; ms resolution).
 *     Only the submitting node is watched (its /v1/events), so the measurement does not make
 *     every node of the mesh busy.
 *  2. sustained `noop` tasks per second, request/reply (submit, wait for success, next),
 *     every submission fsynced before its 202, against BullMQ + Redis (appendfsync always)
 *     at the same concurrency in the same run (target ratio >= 1.0), submitted at one node:
 *     a single node (one process, as Redis + one BullMQ worker are on their side), and, for
 *     the record, one node of the 5-process mesh (5 nodes on this machine's cores, every
 *     entry replicated to all of them: the mesh-wide cost, not one node's).
 * Flags: --tasks N (latency samples, default 300), --seconds N (throughput window, default
 * 10), --concurrency N (default 64), --nodes N (mesh size, default 5), --only latency|throughput,
 * --busy (scripts/bench/busy.ts: stress-ng on every core throughout, plus one CPU-bound
 * sandboxed task per core through the node(s) measured). Loopback only, mDNS off, every process stopped by PID.
 */
import http from 'node:http'
import { parseArgs } from 'node:util'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { LocalMesh, api, followEvents, type MeshNode } from './bench/mesh.js'
import { runBullmqBaseline } from './bench/bullmq-baseline.js'
import { busy } from './bench/busy.js'
import { ownCpuMs, processCpuMs, threadBreakdown, threadCpuMs } from './bench/proc-cpu.js'

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '300' }, seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '64' }, nodes: { type: 'string', default: '5' }, only: { type: 'string' } } })
const NODES = Number(values.nodes)
const TASKS = Number(values.tasks)
const SECONDS = Number(values.seconds)
const CONCURRENCY = Number(values.concurrency)
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]
const ms = (x: number): string => `${x.toFixed(2)} ms`

const waiters = new Map<string, { until: Set<string>, resolve: (t: number) => void }>()
const seen = new Map<string, Set<string>>()
function onState (e: { id: string, state: string }): void {
  const states = seen.get(e.id) ?? new Set<string>()
  states.add(e.state)
  seen.set(e.id, states)
  const w = waiters.get(e.id)
  if (w !== undefined && w.until.has(e.state)) { waiters.delete(e.id); w.resolve(performance.now()) }
}
async function reach (id: string, states: string[], timeoutMs = 60_000): Promise<number> {
  const done = [...seen.get(id) ?? []].some(s => states.includes(s))
  if (done) return performance.now()
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { waiters.delete(id); reject(new Error(`task ${id} did not reach ${states.join('/')} in ${timeoutMs} ms`)) }, timeoutMs)
    waiters.set(id, { until: new Set(states), resolve: at => { clearTimeout(t); resolve(at) } })
  })
}
// Submissions go through node:http with keep-alive (the client is one process for all
// requests: fetch's per-request cost would measure the client, not the node).
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
const NOOP = JSON.stringify({ kind: 'noop' })
async function submit (node: MeshNode): Promise<string> {
  const url = new URL('/v1/tasks', node.url)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json', 'content-length': NOOP.length } }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { res.statusCode === 202 ? resolve((JSON.parse(body) as { id: string }).id) : reject(new Error(`POST /v1/tasks: HTTP ${res.statusCode ?? 0} ${body}`)) })
    })
    req.on('error', reject)
    req.end(NOOP)
  })
}

async function latency (a: MeshNode): Promise<void> {
  const mark = busy.mark()
  const health: number[] = []
  for (let i = 0; i < TASKS; i++) {
    const t0 = performance.now()
    await fetch(`${a.url}/v1/health`).then(async r => r.json())
    health.push(performance.now() - t0)
  }
  for (let i = 0; i < 30; i++) await reach(await submit(a), ['succeeded']) // warm-up
  const samples: number[] = []
  const phases: number[][] = [[], [], []]
  const deadline = Date.now() + 120_000
  for (let i = 0; i < TASKS && Date.now() < deadline; i++) {
    const t0 = Date.now()
    const id = await submit(a)
    await reach(id, ['succeeded'])
    const view = await api<{ attempts: Array<{ startedAt?: string, endedAt?: string }> }>(a, 'GET', `/v1/tasks/${id}`)
    // A noop has no running phase: it is recorded finished at once (stricter than started).
    samples.push(Date.parse(view.attempts[0]?.startedAt ?? view.attempts[0]?.endedAt ?? '') - t0)
    // Where the time went, by the entries' own clocks: submit -> submitted -> awarded -> started.
    const history = await api<{ entries: Array<{ type: string, hlc: { wall: number } }> }>(a, 'GET', `/v1/tasks/${id}/history`)
    const at = (type: string): number => history.entries.find(e => e.type === type)?.hlc.wall ?? NaN
    phases[0].push(at('submitted') - t0)
    phases[1].push(at('awarded') - at('submitted'))
    phases[2].push((Number.isNaN(at('started')) ? at('finished') : at('started')) - at('awarded'))
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  const [p50, p99, h50] = [pct(samples, 0.5), pct(samples, 0.99), pct(health, 0.5)]
  console.log(`submit -> running (noop, ${NODES}-process mesh, ${samples.length} tasks one at a time)`)
  console.log(`  p50 ${p50} ms (target <= 5 ms)   p99 ${p99} ms (target <= 25 ms)   (ms resolution)`)
  console.log(`  p50 by phase: request -> submitted signed ${pct(phases[0], 0.5)} ms, -> awarded signed (submitted fsync + bids) ${pct(phases[1], 0.5)} ms, -> started/finished signed (awarded fsync + award + queue) ${pct(phases[2], 0.5)} ms`)
  console.log(`  baseline: HTTP round trip to the node (GET /v1/health) p50 ${ms(h50)}; p50 is ${(p50 / h50).toFixed(1)}x it`)
  console.log(`  ${busy.report(mark)}`)
}

async function throughput (a: MeshNode): Promise<number> {
  const windowStart = performance.now() + 2000
  const windowEnd = windowStart + SECONDS * 1000
  let completed = 0
  let submitted = 0
  let windowed = 0
  let profileFrom = 0n
  let cpuFrom = 0
  let clientFrom = 0
  let threadsFrom = new Map<number, { name: string, ms: number }>()
  const client = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      submitted++
      if (performance.now() >= windowStart) {
        if (profileFrom === 0n) { profileFrom = process.hrtime.bigint() / 1000n; cpuFrom = cpuMs(a); clientFrom = ownCpuMs(); threadsFrom = threadCpuMs(a.child.pid ?? 0) }
        windowed++
      }
      const id = await submit(a)
      const at = await reach(id, ['succeeded'], 30_000).catch(async (err: Error) => {
        // Say where the task stands in the node (stuck, or only its event lost).
        const view = await api<{ state: string }>(a, 'GET', `/v1/tasks/${id}`).catch(() => undefined)
        throw new Error(`${err.message}; the node says: ${JSON.stringify(view)}`)
      })
      if (at >= windowStart && at <= windowEnd) completed++
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, client))
  // For a per-task CPU breakdown of the node's profile (BENCH_NODE_ARGS=--cpu-prof): the
  // window on the monotonic clock (µs, as V8's profiles) and the tasks submitted in it.
  const profileTo = process.hrtime.bigint() / 1000n
  const cpu = cpuMs(a) - cpuFrom
  const threads = threadBreakdown(a.child.pid ?? 0, threadsFrom, threadCpuMs(a.child.pid ?? 0))
  const clientCpu = ownCpuMs() - clientFrom
  console.log(`  (${submitted} tasks submitted to ${a.name}; ${windowed} in the window: cpu-profile.ts DIR ${windowed} ${profileFrom} ${profileTo})`)
  console.log(`  ${a.name}'s process CPU (user + system) in the window: ${cpu} ms, ${(1000 * cpu / Math.max(1, windowed)).toFixed(0)} µs per task (the client's: ${(1000 * clientCpu / Math.max(1, windowed)).toFixed(0)} µs per task)`)
  console.log(`    by thread (µs per task): ${threads.map(t => `${t.thread} ${(1000 * t.ms / Math.max(1, windowed)).toFixed(0)}`).join(', ')}`)
  return completed / SECONDS
}

const cpuMs = (node: MeshNode): number => processCpuMs(node.child.pid ?? 0)

async function onMesh<T> (count: number, work: (nodes: MeshNode[]) => Promise<T>): Promise<T> {
  const mesh = new LocalMesh()
  const abort = new AbortController()
  let unfill = async (): Promise<void> => {}
  try {
    // --busy: exec workers to run the CPU-bound tasks (one per core across the mesh).
    const execSize = busy.enabled ? Math.max(1, Math.ceil(busy.cores / count)) : 0
    const nodes = await mesh.start(Array.from({ length: count }, (_, i) => ({ name: `n${i}`, config: { workers: { exec: { size: execSize } } } })))
    // Tasks start only once the node has subscribed this client (on a crowded machine that
    // took more than the 500 ms once waited here, and the first tasks' events were missed).
    await new Promise<void>((resolve, reject) => {
      followEvents(nodes[0], onState, abort.signal, ['succeeded', 'failed', 'cancelled'], resolve)
        .then(() => { if (!abort.signal.aborted) console.error('bench:tasks: the node ended the event stream; later tasks will time out') }, reject)
    })
    unfill = await busy.fillNode(nodes[0])
    return await work(nodes)
  } finally {
    await unfill()
    abort.abort()
    await mesh.stop()
  }
}

async function main (): Promise<void> {
  // Builds only when a source is newer than the last build (repeated runs skip the 20-100 s build).
  execFileSync('node', [fileURLToPath(new URL('./build-if-stale.mjs', import.meta.url))], { stdio: 'inherit' })
  let meshRate: number | undefined
  if (values.only !== 'throughput') {
    meshRate = await onMesh(NODES, async nodes => {
      await latency(nodes[0])
      return values.only === 'latency' ? undefined : throughput(nodes[0])
    })
  }
  if (values.only === 'latency') return
  const meshMark = busy.mark()
  const oneRate = await onMesh(1, async nodes => throughput(nodes[0]))
  const oneMark = busy.mark()
  agent.destroy()
  execFileSync('bash', [fileURLToPath(new URL('./ensure-bench-deps.sh', import.meta.url))], { stdio: 'inherit' })
  const bull = await runBullmqBaseline({ durationMs: SECONDS * 1000, concurrency: CONCURRENCY, signal: AbortSignal.timeout(SECONDS * 1000 + 60_000) })
  console.log(`sustained noop tasks/s, request/reply (submit, wait for success at the same node), ${CONCURRENCY} in flight, every submission fsynced before its 202`)
  console.log(`  baseline BullMQ + Redis ${bull.redisVersion} (appendfsync always, one worker): ${bull.perSecond.toFixed(0)}/s; ${busy.report(oneMark)}`)
  // CPU per job: redis-server's, and this process's (the clients and BullMQ's worker share it).
  console.log(`    CPU per job: redis-server ${bull.cpu.redisUsPerJob.toFixed(0)} µs, the client + BullMQ worker process ${bull.cpu.clientUsPerJob.toFixed(0)} µs`)
  console.log(`  gryphgen, one node (its own auctioneer and runner: one process against Redis + one worker): ${oneRate.toFixed(0)}/s, ratio ${(oneRate / bull.perSecond).toFixed(2)} (target >= 1.0); ${busy.report(meshMark)}`)
  if (meshRate !== undefined) {
    console.log(`  gryphgen, submitted at one node of a ${NODES}-process mesh (all ${NODES} share this machine's cores; every entry is replicated to all): ${meshRate.toFixed(0)}/s, ratio ${(meshRate / bull.perSecond).toFixed(2)}`)
  }
}

main().catch(err => { console.error(err); process.exitCode = 1 })
