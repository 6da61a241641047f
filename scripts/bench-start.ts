/**
 * Node start benchmark (issue 19 item 3). One command: `npm run bench:start [-- --runs N]`.
 * N warm starts (default 5) of the built node (dist/, as `npm start` runs it, without npm's
 * pre-steps): wall time from spawn to the API answering and to `GET /v1/ready` 200, and the
 * CPU seconds (user+sys) of one start to ready and a clean stop, the node and its worker
 * processes together. Baseline, alternated with each start in this same run: a bare fastify
 * server (`node -e`: import fastify, listen, answer), timed and counted the same way.
 * CPU comes from this process's own children accounting (/proc/self/stat cutime+cstime):
 * a process's figure includes the descendants it reaped, so the node's includes its workers.
 * Loopback only, mDNS off; every process is stopped by PID; loops bounded by count and time.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { until } from './bench/mesh.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const BIN = fileURLToPath(new URL('../bin/gryphgen.js', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const START_TIMEOUT_MS = 60_000
const CLOCK_TICKS = 100 // USER_HZ on Linux

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } })
const RUNS = Number(values.runs)
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 50) throw new Error('--runs must be an integer from 1 to 50')

const children = new Set<ChildProcess>()

/** CPU seconds of every child this process has reaped so far (and their reaped descendants). */
async function reapedChildrenCpu (): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Fields after the command name start at field 3 (state): cutime is field 16, cstime 17.
  return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / CLOCK_TICKS
}

function spawnTracked (args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.stdout?.resume()
  child.stderr?.resume()
  child.once('exit', () => children.delete(child))
  return child
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 20_000)
  await exited
  clearTimeout(t)
}

interface Start { apiMs: number, readyMs: number, cpuS: number }

/** Spawns, waits for `url()` to answer at all (API up) and then with 200 (ready), stops, counts CPU. */
async function measure (args: string[], url: () => Promise<string>): Promise<Start> {
  const cpu0 = await reapedChildrenCpu()
  const t0 = performance.now()
  const child = spawnTracked(args)
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const fail = exited.then(() => { throw new Error(`exited with ${child.exitCode ?? child.signalCode} before ready`) })
  const answered = async (ok: boolean): Promise<number> => await Promise.race([fail, until(async () => {
    const res = await fetch(await url())
    await res.arrayBuffer()
    return ok && res.status !== 200 ? undefined : performance.now() - t0
  }, START_TIMEOUT_MS, 10)])
  const apiMs = await answered(false)
  const readyMs = await answered(true)
  fail.catch(() => {})
  await stop(child)
  await exited
  return { apiMs, readyMs, cpuS: await reapedChildrenCpu() - cpu0 }
}

const nodeStart = async (dir: string): Promise<Start> => await measure(
  ['--max-semi-space-size=4', BIN, 'start', '--data-dir', dir, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--log-level', 'warn'],
  async () => `http://127.0.0.1:${(await readFile(join(dir, 'api-port'), 'utf8')).trim()}/v1/ready`)

/** The floor for a fastify node: import fastify, listen on a free port, write it to a file. */
const bareStart = async (dir: string): Promise<Start> => {
  const portFile = join(dir, 'bare-port')
  const script = `const f=(await import('fastify')).default();f.get('/',async()=>'ok');await f.listen({port:0,host:'127.0.0.1'});await (await import('node:fs/promises')).writeFile(${JSON.stringify(portFile)},String(f.server.address().port));process.on('SIGTERM',()=>f.close().then(()=>process.exit(0)))`
  await rm(portFile, { force: true })
  return await measure(['--input-type=module', '-e', script], async () => `http://127.0.0.1:${(await readFile(portFile, 'utf8')).trim()}/`)
}

function row (what: string, xs: number[], unit: string, digits: number, baseline: number[]): void {
  const sorted = [...xs].sort((a, b) => a - b)
  const med = (s: number[]): number => { const v = [...s].sort((a, b) => a - b); return v[Math.floor(v.length / 2)] }
  const f = (x: number): string => x.toFixed(digits)
  process.stdout.write(`${what.padEnd(30)} min ${f(sorted[0]).padStart(7)}  median ${f(med(xs)).padStart(7)}  max ${f(sorted.at(-1) ?? 0).padStart(7)} ${unit}` +
    `   baseline median ${f(med(baseline))} ${unit}, ratio ${(med(xs) / med(baseline)).toFixed(2)}x\n`)
}

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'gryphgen-bench-start-'))
  try {
    // The first start creates keys and the database: a user's warm start is the case measured.
    const dir = join(root, 'node')
    await nodeStart(dir)
    const loadBefore = loadavg()[0]
    const node: Start[] = []
    const bare: Start[] = []
    for (let i = 0; i < RUNS; i++) {
      node.push(await nodeStart(dir))
      bare.push(await bareStart(root))
    }
    process.stdout.write(`${RUNS} warm starts of the built node (baseline: a bare fastify server); 1-min load average ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after\n`)
    row('to API answering', node.map(s => s.apiMs), 'ms', 0, bare.map(s => s.apiMs))
    row('to GET /v1/ready 200', node.map(s => s.readyMs), 'ms', 0, bare.map(s => s.readyMs))
    row('CPU per start (to ready+stop)', node.map(s => s.cpuS), 's', 2, bare.map(s => s.cpuS))
  } finally {
    await Promise.all([...children].map(stop))
    await rm(root, { recursive: true, force: true })
  }
}

await main()
