/**
 * Soak benchmark (issue 14): `npm run bench:soak`. A 3-process loopback mesh runs a sustained
 * workload (noop and small exec tasks, alternating, submitted round-robin at `--rate` per
 * second) for `--minutes`, and every `--every` seconds prints per node: disk used by LevelDB
 * (`db/`) and blobs (`blobs/`), RSS (from /proc), ledger entries and the blob store's figures
 * (GET /v1/blobs). At the end, for each figure, the slope of its last half relative to its
 * mean (the plateau target is within ±5%) and whether every node holds the same entries.
 * Compaction figures come with ledger retention (not yet in this build).
 * Flags: --minutes N (default 10), --rate N (default 5), --every N (seconds, default 60),
 * --nodes N (default 3). Loopback only, mDNS off, every process stopped by PID.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { LocalMesh, api, type MeshNode } from './bench/mesh.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, rate: { type: 'string', default: '5' }, every: { type: 'string', default: '60' }, nodes: { type: 'string', default: '3' } } })
const MINUTES = Number(values.minutes)
const RATE = Number(values.rate)
const EVERY_MS = Number(values.every) * 1000
const NODES = Number(values.nodes)

interface Sample { at: number, dbMb: number, blobsMb: number, rssMb: number, entries: number }

async function diskBytes (path: string): Promise<number> {
  let total = 0
  for (const name of await readdir(path).catch(() => [] as string[])) {
    const info = await stat(join(path, name)).catch(() => undefined)
    if (info === undefined) continue
    total += info.isDirectory() ? await diskBytes(join(path, name)) : info.size
  }
  return total
}

async function rssMb (pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

async function sample (node: MeshNode): Promise<Sample> {
  const ledger = await api<{ entries: number }>(node, 'GET', '/v1/ledger/status')
  return {
    at: Date.now(),
    dbMb: await diskBytes(join(node.dir, 'db')) / 2 ** 20,
    blobsMb: await diskBytes(join(node.dir, 'blobs')) / 2 ** 20,
    rssMb: await rssMb(node.child.pid),
    entries: ledger.entries,
  }
}

/** Least-squares slope over the last half, as a share of its mean over the whole last half. */
function lastHalfSlope (points: Array<{ at: number, value: number }>): string {
  const half = points.slice(Math.floor(points.length / 2))
  if (half.length < 2) return 'n/a (too few samples)'
  const mean = half.reduce((s, p) => s + p.value, 0) / half.length
  const t0 = half[0].at
  const xs = half.map(p => (p.at - t0) / 1000)
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length
  const slope = xs.reduce((s, x, i) => s + (x - mx) * (half[i].value - mean), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0)
  const change = slope * (xs[xs.length - 1] - xs[0])
  return mean === 0 ? 'flat (0)' : `${(100 * change / mean).toFixed(1)}% over the last half`
}

const mesh = new LocalMesh()
const stop = async (): Promise<void> => { await mesh.stop() }
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void stop().then(() => process.exit(130)) })
try {
  const nodes = await mesh.start(Array.from({ length: NODES }, (_, i) => ({ name: `soak-${i}`, config: { workers: { exec: { size: 1 } }, blobs: { gcIntervalMs: 60_000 } } })))
  console.log(`soak: ${NODES} nodes, ${RATE} tasks/s (noop and exec alternating) for ${MINUTES} min, figures every ${EVERY_MS / 1000} s`)
  const samples = new Map<string, Sample[]>(nodes.map(n => [n.name, []]))
  const deadline = Date.now() + MINUTES * 60_000
  let submitted = 0
  let failedSubmits = 0
  const report = async (): Promise<void> => {
    for (const node of nodes) {
      const s = await sample(node)
      samples.get(node.name)?.push(s)
      console.log(`${new Date(s.at).toISOString()} ${node.name}: db ${s.dbMb.toFixed(1)} MB, blobs ${s.blobsMb.toFixed(1)} MB, rss ${s.rssMb.toFixed(0)} MB, entries ${s.entries} (submitted ${submitted}, failed submits ${failedSubmits})`)
    }
  }
  await report()
  let nextReport = Date.now() + EVERY_MS
  for (let i = 0; Date.now() < deadline; i++) {
    const node = nodes[i % nodes.length]
    const body = i % 2 === 0 ? { kind: 'noop' } : { kind: 'exec', command: ['sh', '-c', 'echo soak'] }
    api(node, 'POST', '/v1/tasks', body).then(() => { submitted++ }, () => { failedSubmits++ })
    await new Promise(resolve => setTimeout(resolve, 1000 / RATE))
    if (Date.now() >= nextReport) { await report(); nextReport += EVERY_MS }
  }
  await report()
  console.log('\nplateau (slope of the last half; target within ±5%):')
  for (const [name, list] of samples) {
    const of = (key: keyof Omit<Sample, 'at'>): string => lastHalfSlope(list.map(s => ({ at: s.at, value: s[key] })))
    console.log(`${name}: db ${of('dbMb')}; blobs ${of('blobsMb')}; rss ${of('rssMb')}; entries ${of('entries')}`)
  }
  const vectors = await Promise.all(nodes.map(async n => JSON.stringify(Object.entries((await api<{ versionVector: Record<string, number> }>(n, 'GET', '/v1/ledger/status')).versionVector).sort())))
  console.log(`ledgers identical at the end (same version vector): ${vectors.every(v => v === vectors[0])}`)
} finally {
  await stop()
}
