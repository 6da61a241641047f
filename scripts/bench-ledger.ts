/**
 * Ledger benchmark (issue 4). One command: `npm run bench:ledger`. Prints each figure with
 * its target and a baseline measured in this same run:
 *  - durable appends/s with group commit (64 concurrent appenders) vs awaited one-at-a-time
 *    LevelDB puts with sync: true (what a naive durable log does);
 *  - a new node (its own process) catching up on 100k entries over loopback, every entry
 *    verified, vs the time to check all 100k signatures one by one (what per-entry verification would cost);
 *  - convergence after healing a partition with 10k divergent entries (5k on each side).
 * Real nodes in this process on 127.0.0.1, mDNS off; every loop bounded by count and time.
 */
import '../base/polyfill.js'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { ClassicLevel } from 'classic-level'
import { multiaddr } from '@multiformats/multiaddr'
import { resolveConfig } from '../node/config/index.js'
import { GryphgenNode } from '../node/node.js'
import { silentLogger } from '../base/index.js'
import { newSwarmKeyHex, writeSwarmKey } from '../node/datadir/index.js'
import { verifySignature } from '../ledger/index.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const BIN = fileURLToPath(new URL('../bin/gryphgen.js', import.meta.url))
const root = await mkdtemp(join(tmpdir(), 'gryphgen-bench-ledger-'))
const nodes: GryphgenNode[] = []
const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

async function startNode (name: string, psk: string, bootstrap: string[] = []): Promise<GryphgenNode> {
  const dataDir = join(root, name)
  await mkdir(dataDir, { recursive: true })
  await writeSwarmKey(dataDir, psk)
  const config = resolveConfig({ dataDir, file: { path: 'bench', text: JSON.stringify({ listen: ['/ip4/127.0.0.1/tcp/0'], apiPort: 0, mdns: false, bootstrap, logLevel: 'silent' }) } })
  const node = new GryphgenNode({ config, logger: silentLogger() })
  await node.start()
  nodes.push(node)
  return node
}

async function until (check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`)
    await sleep(5)
  }
}

function line (what: string, value: number, unit: string, target: string, baseline: { name: string, value: number }, higherIsBetter: boolean): void {
  const ratio = higherIsBetter ? value / baseline.value : baseline.value / value
  process.stdout.write(`${what.padEnd(40)} ${value.toFixed(0).padStart(8)} ${unit.padEnd(9)} target ${target.padEnd(10)} baseline (${baseline.name}) ${baseline.value.toFixed(0)} ${unit}, ${ratio.toFixed(2)}x better\n`)
}

async function appendMany (node: GryphgenNode, count: number, prefix: string, concurrency = 64): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++
      // A kind no node runs: the auctioneers leave these alone; this measures the ledger only.
      await node.ledger.append('submitted', `${prefix}-${i}`, { kind: 'ledger-bench', priority: 5, spec: { i } })
    }
  }))
}

try {
  const psk = newSwarmKeyHex()

  // 1. Durable appends: group commit vs one synced put at a time.
  const solo = await startNode('solo', psk)
  const t0 = performance.now()
  await appendMany(solo, 20_000, 'task-solo')
  const groupRate = 20_000 / ((performance.now() - t0) / 1000)
  const naive = new ClassicLevel<string, string>(join(root, 'naive'), { valueEncoding: 'utf8' })
  await naive.open()
  const t1 = performance.now()
  for (let i = 0; i < 2000; i++) await naive.put(`k${i}`, 'x'.repeat(300), { sync: true })
  const naiveRate = 2000 / ((performance.now() - t1) / 1000)
  await naive.close()
  line('durable appends (group commit)', groupRate, 'entries/s', '>= 5,000', { name: 'awaited sync puts', value: naiveRate }, true)

  // 2. Catch-up of 100k entries (two authors, 50k each).
  const a = await startNode('a', psk)
  const b = await startNode('b', psk, a.addresses())
  await until(() => a.peers().length === 1, 10_000)
  await Promise.all([appendMany(a, 50_000, 'task-a'), appendMany(b, 50_000, 'task-b')])
  await until(() => a.ledger.entryCount() === 100_000 && b.ledger.entryCount() === 100_000, 60_000)
  const sample = await a.ledger.store.range(a.peerId, 1, 100_000, 100_000)
  const t2 = performance.now()
  for (let i = 0; i < 10_000; i++) await verifySignature(sample[i % sample.length].entry)
  const perEntryVerifyMs = (performance.now() - t2) * 10
  // The joiner is its own process (as on a real machine), started with `gryphgen start`; once
  // its API answers, the mesh connects to it and the clock starts.
  const joinDir = join(root, 'joiner')
  await mkdir(joinDir, { recursive: true })
  await writeSwarmKey(joinDir, psk)
  const profile = process.env.BENCH_PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
  const child = spawn(process.execPath, [...profile, '--max-semi-space-size=4', BIN, 'start', '--data-dir', joinDir, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--log-level', 'warn'], { stdio: 'ignore' })
  try {
    const api = async <T>(path: string): Promise<T | undefined> => {
      const port = (await readFile(join(joinDir, 'api-port'), 'utf8').catch(() => '')).trim()
      if (port === '') return undefined
      const token = (await readFile(join(joinDir, 'api-token'), 'utf8')).trim()
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined)
      return res?.ok === true ? await res.json() as T : undefined
    }
    let node: { addresses: string[] } | undefined
    for (let i = 0; i < 600 && node === undefined; i++) { await sleep(20); node = await api<{ addresses: string[] }>('/v1/node') }
    if (node === undefined) throw new Error('joiner did not start')
    const t3 = performance.now()
    await a.mesh.dial(multiaddr(node.addresses[0]), { signal: AbortSignal.timeout(5000) })
    let catchUpMs = 0
    let status: { entries: number, indexed: number } | undefined
    const deadline = Date.now() + 60_000
    while ((status?.indexed ?? 0) < 100_000 && Date.now() < deadline) {
      await sleep(20)
      status = await api<{ entries: number, indexed: number }>('/v1/ledger/status') ?? status
      if (status?.entries === 100_000 && catchUpMs === 0) catchUpMs = performance.now() - t3
    }
    const indexedMs = performance.now() - t3
    if ((status?.indexed ?? 0) < 100_000) throw new Error(`joiner has ${status?.entries} entries, ${status?.indexed} indexed, of 100000 after 60 s`)
    line('catch-up of 100k entries, all verified', catchUpMs, 'ms', '<= 3,000', { name: '100k signature checks alone', value: perEntryVerifyMs }, false)
    process.stdout.write(`  (a separate joiner process, timed from the connection; all 100k task states derived at ${indexedMs.toFixed(0)} ms)\n`)
  } finally {
    child.kill('SIGTERM')
    await new Promise(resolve => child.once('exit', resolve))
  }
  for (const n of [a, b]) await n.stop()

  // 3. Partition heal with 10k divergent entries.
  const psk2 = newSwarmKeyHex()
  const left = await startNode('left', psk2)
  const right = await startNode('right', psk2)
  await Promise.all([appendMany(left, 5000, 'task-left'), appendMany(right, 5000, 'task-right')])
  const t4 = performance.now()
  await left.mesh.dial(multiaddr(right.addresses()[0]), { signal: AbortSignal.timeout(5000) })
  await until(() => left.ledger.entryCount() === 10_000 && right.ledger.entryCount() === 10_000, 30_000)
  await Promise.all([left.ledger.whenIndexed(), right.ledger.whenIndexed()])
  const healMs = performance.now() - t4
  line('heal, 10k divergent: entries + states', healMs, 'ms', '<= 2,000', { name: '10k signature checks alone', value: perEntryVerifyMs / 10 }, false)
} finally {
  await Promise.allSettled(nodes.map(async n => n.stop()))
  await rm(root, { recursive: true, force: true })
}
