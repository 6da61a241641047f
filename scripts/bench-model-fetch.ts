/**
 * Model fetch benchmark (issue 16 item 5): `npm run bench:model-fetch`. Two libp2p meshes on
 * loopback (noise, yamux, the swarm key: the node's real stack) in this process; one holds a
 * generated GGUF of `--mb` MB (a tiny test model padded with random bytes), the other fetches
 * it with the ModelFetcher (chunks verified, whole digest checked, fsync, added to its store).
 * Baseline in the same run: `cp` of the same file to the same disk, with `sync`. Each is run
 * `--reps` times alternately; medians. Target: fetch throughput >= 0.5x of cp. The holder's
 * manifest is computed by a first, untimed fetch (a holder computes it once per file).
 * Flags: --mb N (default 300), --reps N (default 3).
 */
import '../base/polyfill.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { createLogger, silentLogger } from '../base/index.js'
import { ModelFetcher, ModelServer, ModelStore } from '../models/index.js'
import { createMesh, startMesh } from '../node/mesh/libp2p.js'
import { newSwarmKeyHex } from '../node/datadir/index.js'
import { paddedTestModel } from './bench/padded-model.js'

const run = promisify(execFile)
/** BENCH_DEBUG=1 logs the fetch's and the holder's debug lines (to stdout). */
const logger = process.env.BENCH_DEBUG === undefined ? silentLogger() : createLogger({ level: 'debug' })
const { values } = parseArgs({ options: { mb: { type: 'string', default: '300' }, reps: { type: 'string', default: '3' } } })
const MB = Number(values.mb)
const REPS = Number(values.reps)
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)] }

const root = await mkdtemp(join(tmpdir(), 'gryphgen-bench-fetch-'))
const swarmKey = newSwarmKeyHex()
const meshes = await Promise.all([0, 1].map(async () => {
  const m = await createMesh({ privateKey: await generateKeyPair('Ed25519'), swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  await startMesh(m, ['/ip4/127.0.0.1/tcp/0'])
  return m
}))
const [holderMesh, fetcherMesh] = meshes
try {
  const holderStore = await ModelStore.open({ dataDir: join(root, 'holder') })
  const chunks = Math.max(1, Math.round(MB / 4))
  const source = await paddedTestModel(join(root, 'source.gguf'), chunks)
  const { model: held } = await holderStore.add(source.path, { name: 'bench', link: true })
  const server = new ModelServer({ mesh: holderMesh, lookup: async d => d === held.digest ? { path: held.path, digest: d, size: held.bytes, mtimeMs: 0 } : undefined, logger })
  await server.start()
  await fetcherMesh.dial(holderMesh.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
  const holders = async function * (): AsyncGenerator<ReturnType<typeof peerIdFromString>> { yield peerIdFromString(holderMesh.peerId.toString()) }
  // Both meshes run in this process: its CPU time during a fetch is all the transfer's work.
  const cpuSeconds: number[] = []
  const fetchOnce = async (dir: string): Promise<number> => {
    const store = await ModelStore.open({ dataDir: join(root, dir) })
    const fetcher = new ModelFetcher({ mesh: fetcherMesh, store, holders, logger })
    const started = performance.now()
    const cpu0 = process.cpuUsage()
    const { model } = await fetcher.fetch({ name: 'bench', digest: held.digest, bytes: held.bytes }, { signal: AbortSignal.timeout(600_000) })
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpu0)
    cpuSeconds.push((cpu.user + cpu.system) / 1e6)
    if (model.digest !== held.digest) throw new Error('fetched model has another digest')
    await rm(join(root, dir), { recursive: true, force: true })
    return seconds
  }
  const cpOnce = async (i: number): Promise<number> => {
    const target = join(root, `copy-${i}.gguf`)
    const started = performance.now()
    await run('cp', [source.path, target])
    await run('sync', ['-f', target])
    const seconds = (performance.now() - started) / 1000
    await rm(target)
    return seconds
  }
  await fetchOnce('warmup')
  const fetchSeconds: number[] = []
  const cpSeconds: number[] = []
  for (let i = 0; i < REPS; i++) {
    cpSeconds.push(await cpOnce(i))
    fetchSeconds.push(await fetchOnce(`fetch-${i}`))
  }
  const bytes = (await stat(source.path)).size
  const mbps = (s: number): string => (bytes / 1024 / 1024 / s).toFixed(0)
  const [f, c] = [median(fetchSeconds), median(cpSeconds)]
  console.log(`file: ${(bytes / 1024 / 1024).toFixed(0)} MiB, ${REPS} reps each (medians); load average ${loadavg().map(l => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`)
  console.log(`cp + sync:            ${c.toFixed(2)} s  ${mbps(c)} MiB/s`)
  console.log(`mesh fetch (loopback): ${f.toFixed(2)} s  ${mbps(f)} MiB/s`)
  console.log(`fetch CPU (both nodes, this process): ${(median(cpuSeconds.slice(1)) / (bytes / 1024 ** 3)).toFixed(1)} CPU-s per GiB; ${(median(cpuSeconds.slice(1)) / f * 100).toFixed(0)}% of one core`)
  console.log(`ratio fetch/cp throughput: ${(c / f).toFixed(2)}x (target >= 0.5x)`)
  await server.stop()
} finally {
  for (const m of meshes) await m.stop()
  await rm(root, { recursive: true, force: true })
}
