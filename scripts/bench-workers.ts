/**
 * Worker pool benchmark: trivial `echo` tasks through the pool (2 exec worker processes over
 * ipc) against baselines measured in this same run: piscina with 2 threads, and a bare
 * ZeroMQ ROUTER/DEALER round trip to 2 processes (no schemas, no bookkeeping).
 *
 *   node --import tsx scripts/bench-workers.ts [--tasks 50000] [--latency-tasks 5000] [--busy]
 *
 * Targets (issue 20): pool throughput at 100 in flight >= 1.2x piscina's, >= 1.0x with --busy
 * (stress-ng --cpu N beside the whole run, baselines included); dispatch overhead at 1 in
 * flight p50 <= 100 µs. Numbers from a shared 2-core machine are noisy: read the ratios.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { Router } from 'zeromq'
import { Piscina } from 'piscina'
import { silentLogger } from '../base/index.js'
import { createWorkerPool } from '../workers/index.js'
import { busy } from './bench/busy.js'
import { ownCpuMs, processCpuMs } from './bench/proc-cpu.js'

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '50000' }, 'latency-tasks': { type: 'string', default: '5000' } } })
const TASKS = Number(values.tasks)
const LATENCY_TASKS = Number(values['latency-tasks'])
const IN_FLIGHT = 100
const ROUNDS = 3

type Submit = (i: number) => Promise<unknown>

/** Round-trip times in µs at 1 in flight, after a warm-up. */
async function latency (submit: Submit): Promise<{ p50: number, p99: number }> {
  for (let i = 0; i < 1000; i++) await submit(i)
  const times: number[] = []
  for (let i = 0; i < LATENCY_TASKS; i++) {
    const start = process.hrtime.bigint()
    await submit(i)
    times.push(Number(process.hrtime.bigint() - start) / 1000)
  }
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)] }
}

/**
 * Tasks per second with IN_FLIGHT submitted at all times, the median of ROUNDS runs; and the
 * CPU per task over those runs (µs, user + system of this process, every thread, and of
 * `pids`), which a crowded machine inflates far less than it does wall time.
 */
async function throughput (submit: Submit, pids: () => number[] = () => []): Promise<{ rate: number, cpuPerTask: number }> {
  const cpu = (): number => ownCpuMs() + pids().reduce((sum, pid) => sum + processCpuMs(pid), 0)
  const run = async (total: number): Promise<number> => {
    let next = 0
    const start = performance.now()
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < total) await submit(next++)
    }))
    return total / ((performance.now() - start) / 1000)
  }
  await run(Math.min(TASKS, 10_000))
  const rates: number[] = []
  const cpuBefore = cpu()
  for (let r = 0; r < ROUNDS; r++) rates.push(await run(TASKS))
  const cpuPerTask = (cpu() - cpuBefore) * 1000 / (ROUNDS * TASKS)
  return { rate: rates.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)], cpuPerTask }
}

/** The bare socket baseline: a ROUTER here, two DEALER processes echoing each frame back. */
async function rawZmq (dir: string): Promise<{ submit: Submit, close: () => Promise<void> }> {
  const endpoint = `ipc://${join(dir, 'raw.sock')}`
  const zmqUrl = pathToFileURL(createRequire(import.meta.url).resolve('zeromq')).href
  const code = `const { Dealer } = await import(${JSON.stringify(zmqUrl)}); const d = new Dealer({ linger: 0 }); d.connect(${JSON.stringify(endpoint)});
await d.send('hello'); for await (const [m] of d) await d.send(m)`
  const router = new Router({ linger: 0 })
  await router.bind(endpoint)
  const children: ChildProcess[] = [0, 1].map(() => spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'inherit' }))
  const peers: Buffer[] = []
  const pending = new Map<number, () => void>()
  const loop = (async () => {
    for await (const [peer, frame] of router) {
      const text = frame.toString()
      if (text === 'hello') peers.push(peer)
      else pending.get(Number(text))?.()
    }
  })().catch(() => {})
  const deadline = Date.now() + 10_000
  while (peers.length < 2 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
  let turn = 0
  return {
    submit: async (i: number) => await new Promise<void>(resolve => {
      pending.set(i, () => { pending.delete(i); resolve() })
      void router.send([peers[turn++ % 2], String(i)])
    }),
    close: async () => {
      for (const child of children) child.kill('SIGKILL')
      router.close()
      await loop
    },
  }
}

function row (name: string, p50: number | string, p99: number | string, rate: number | string, cpu: number | string): string {
  const cell = (v: number | string, width: number): string => (typeof v === 'number' ? v.toFixed(v < 1000 ? 1 : 0) : v).padStart(width)
  return `${name.padEnd(42)}${cell(p50, 10)}${cell(p99, 10)}${cell(rate, 12)}${cell(cpu, 14)}`
}

async function main (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gw-bench-'))
  const lines: string[] = [row('(1 in flight: round trip µs; 100: tasks/s)', 'p50 µs', 'p99 µs', 'tasks/s', 'CPU µs/task')]
  try {
    const raw = await rawZmq(dir)
    const rawLatency = await latency(raw.submit)
    lines.push(row('bare zeromq ROUTER/DEALER, 2 processes', rawLatency.p50, rawLatency.p99, '-', '-'))
    await raw.close()

    const taskFile = join(dir, 'echo.mjs')
    await writeFile(taskFile, 'export default function echo (input) { return input }\n')
    const piscina = new Piscina({ filename: pathToFileURL(taskFile).href, minThreads: 2, maxThreads: 2 })
    const piscinaSubmit: Submit = async i => await piscina.run({ i })
    const piscinaLatency = await latency(piscinaSubmit)
    const { rate: piscinaRate, cpuPerTask: piscinaCpu } = await throughput(piscinaSubmit)
    lines.push(row('piscina, 2 threads', piscinaLatency.p50, piscinaLatency.p99, piscinaRate, piscinaCpu))
    await piscina.destroy()

    const results: Record<number, { p50: number, p99: number, rate: number, cpuPerTask: number }> = {}
    for (const slots of [1, 64]) {
      const dataDir = await mkdtemp(join(dir, 'd'))
      const pool = createWorkerPool({ dataDir, logger: silentLogger(), kinds: { exec: { size: 2, slots }, model: { size: 0 } } })
      await pool.start({ signal: AbortSignal.timeout(60_000) })
      const submit: Submit = async i => await pool.submit('exec', { type: 'echo', input: { i } })
      const lat = await latency(submit)
      results[slots] = { ...lat, ...await throughput(submit, () => pool.workers().map(w => w.pid)) }
      await pool.stop()
      lines.push(row(`gryphgen pool, 2 workers, ${slots} slot${slots === 1 ? '' : 's'} each`, lat.p50, lat.p99, results[slots].rate, results[slots].cpuPerTask))
    }
    const best = results[64]
    lines.push('',
      `throughput at ${IN_FLIGHT} in flight, pool (64 slots) / piscina: ${(best.rate / piscinaRate).toFixed(2)} (target >= ${busy.enabled ? '1.0 with --busy' : '1.2'})`,
      `CPU per task at ${IN_FLIGHT} in flight (this process and the workers), pool (64 slots) / piscina: ${(best.cpuPerTask / piscinaCpu).toFixed(2)} (lower is cheaper)`,
      `throughput at ${IN_FLIGHT} in flight, pool (1 slot) / piscina: ${(results[1].rate / piscinaRate).toFixed(2)} (no credit: one round trip per task per worker)`,
      `dispatch overhead at 1 in flight, p50 (pool round trip ${results[1].p50.toFixed(1)} µs - bare zeromq ${rawLatency.p50.toFixed(1)} µs): ${(results[1].p50 - rawLatency.p50).toFixed(1)} µs (target <= 100)`,
      `round trip at 1 in flight, pool p50: ${results[1].p50.toFixed(1)} µs (<= 100 µs only when the machine is quiet: bare zeromq alone takes ${rawLatency.p50.toFixed(1)} µs here); ratio to piscina: ${(results[1].p50 / piscinaLatency.p50).toFixed(2)}`,
    )
    process.stdout.write([...lines, busy.report()].join('\n') + '\n')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
