/**
 * Node foundation benchmark (issue 2). One command: `npm run bench:node`.
 * Prints, each with its target and a baseline measured in this same run:
 *  - ready time: process start -> API answering (median of 5), vs a bare Node HTTP server;
 *  - idle RSS of a started node, vs a bare Node HTTP server;
 *  - advert change visible on all peers of a 5-process loopback mesh (median of 5).
 * Loopback only, mDNS off; every process is stopped by PID; loops bounded by count and time.
 */
import '../base/polyfill.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { until as untilDefined } from './bench/mesh.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const BIN = fileURLToPath(new URL('../bin/gryphgen.js', import.meta.url))
const children = new Set<ChildProcess>()
const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function spawnTracked (args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.stdout?.resume()
  child.stderr?.resume()
  child.once('exit', () => children.delete(child))
  return child
}

const until = async <T>(fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 5): Promise<T> => untilDefined(fn, timeoutMs, everyMs)

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(t)
}

const rssMiB = async (pid: number): Promise<number> => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

interface Started { child: ChildProcess, dir: string, url: string, token: string, readyMs: number }

async function startNode (dir: string, extra: string[] = []): Promise<Started> {
  const t0 = performance.now()
  const child = spawnTracked(['--max-semi-space-size=4', BIN, 'start', '--data-dir', dir, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--log-level', 'warn', ...extra])
  const url = await until(async () => {
    const port = (await readFile(join(dir, 'api-port'), 'utf8')).trim()
    const res = await fetch(`http://127.0.0.1:${port}/v1/health`)
    return res.ok ? `http://127.0.0.1:${port}` : undefined
  }, 20_000)
  const readyMs = performance.now() - t0
  const token = (await readFile(join(dir, 'api-token'), 'utf8')).trim()
  return { child, dir, url, token, readyMs }
}

async function startBareServer (): Promise<{ child: ChildProcess, readyMs: number }> {
  const t0 = performance.now()
  const child = spawnTracked(['-e', "const s=require('http').createServer((q,r)=>r.end('ok'));s.listen(0,'127.0.0.1',()=>console.log(s.address().port))"])
  const port = await new Promise<string>(resolve => child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())))
  await until(async () => (await fetch(`http://127.0.0.1:${port}/`)).ok ? true : undefined, 5000)
  return { child, readyMs: performance.now() - t0 }
}

const api = async <T>(n: Started, method: string, path: string, body?: unknown): Promise<T> => {
  const res = await fetch(n.url + path, { method, headers: { authorization: `Bearer ${n.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`)
  return await res.json() as T
}

function line (what: string, value: number, unit: string, target: string, baseline?: { name: string, value: number }): void {
  const base = baseline === undefined ? '' : `  baseline (${baseline.name}) ${baseline.value.toFixed(1)} ${unit}, ratio ${(value / baseline.value).toFixed(2)}x`
  process.stdout.write(`${what.padEnd(34)} ${value.toFixed(1).padStart(8)} ${unit.padEnd(4)} target ${target}${base}\n`)
}

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'gryphgen-bench-'))
  try {
    // Warm the compile cache and create keys once: a user's second start is the common case.
    const warmDir = join(root, 'warm')
    await stop((await startNode(warmDir)).child)

    const ready: number[] = []
    const bare: number[] = []
    for (let i = 0; i < 5; i++) {
      const n = await startNode(warmDir)
      ready.push(n.readyMs)
      await stop(n.child)
      const b = await startBareServer()
      bare.push(b.readyMs)
      await stop(b.child)
    }
    line('ready (start -> API answering)', median(ready), 'ms', '<= 1500 ms', { name: 'bare node http server', value: median(bare) })

    const idle = await startNode(warmDir)
    const bareIdle = await startBareServer()
    await sleep(5000)
    line('idle RSS after 5 s', await rssMiB(idle.child.pid ?? 0), 'MiB', '<= 130 MiB', { name: 'bare node http server', value: await rssMiB(bareIdle.child.pid ?? 0) })
    await Promise.all([stop(idle.child), stop(bareIdle.child)])

    // 5-process mesh: one bootstrap node, four joiners.
    const first = await startNode(join(root, 'm0'))
    const { addresses } = await api<{ addresses: string[] }>(first, 'GET', '/v1/node')
    const swarmKey = await readFile(join(first.dir, 'swarm.key'))
    const others: Started[] = []
    for (let i = 1; i < 5; i++) {
      const dir = join(root, `m${i}`)
      await (await import('node:fs/promises')).mkdir(dir, { recursive: true })
      await (await import('node:fs/promises')).writeFile(join(dir, 'swarm.key'), swarmKey, { mode: 0o600 })
      others.push(await startNode(dir, ['--bootstrap', addresses[0]]))
    }
    const mesh = [first, ...others]
    await until(async () => {
      const seen = await Promise.all(mesh.map(async n => (await api<{ peers: unknown[] }>(n, 'GET', '/v1/peers')).peers.length))
      return seen.every(c => c === 4) ? true : undefined
    }, 30_000, 100)
    const spread: number[] = []
    for (let round = 0; round < 5; round++) {
      await sleep(1000) // let the prompt-advert budget refill (3.8 tokens/s in a 5-node mesh)
      const label = `bench-${round}`
      const t0 = performance.now()
      await api(first, 'PUT', '/v1/node/labels', { labels: [label] })
      await until(async () => {
        const views = await Promise.all(others.map(async n => (await api<{ peers: Array<{ peerId: string, capabilities: { labels: string[] } }> }>(n, 'GET', '/v1/peers')).peers))
        return views.every(v => v.some(p => p.capabilities.labels.includes(label))) ? true : undefined
      }, 10_000, 2)
      spread.push(performance.now() - t0)
    }
    const rtt: number[] = []
    for (let i = 0; i < 20; i++) { const t0 = performance.now(); await api(others[0], 'GET', '/v1/peers'); rtt.push(performance.now() - t0) }
    line('advert change on all 4 peers', median(spread), 'ms', '<= 1000 ms', { name: 'one /v1/peers API round trip', value: median(rtt) })
    process.stdout.write(`  (5 rounds: ${spread.map(s => s.toFixed(1)).join(', ')} ms)\n`)
    await Promise.all(mesh.map(async n => stop(n.child)))
  } finally {
    await Promise.all([...children].map(stop))
    await rm(root, { recursive: true, force: true })
  }
}

await main()
