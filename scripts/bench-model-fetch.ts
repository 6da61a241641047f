/**
 * Model fetch benchmark (issue 16 item 5): `npm run bench:model-fetch`. Two nodes on loopback
 * (the node's real stack: pnet, noise, yamux, the swarm key): a holder whose store holds a
 * generated GGUF of `--mb` MB (a tiny test model padded with random bytes; scripts/bench/
 * model-holder.ts), and a fetcher, this process, which fetches it with the ModelFetcher
 * (chunks verified, whole digest checked, fsync, added to its store). Baseline in the same
 * run: `cp` of the same file to the same disk, with `sync`. Each is run `--reps` times
 * alternately; medians. Target: fetch throughput >= 0.5x of cp. The holder's manifest is
 * computed by a first, untimed fetch (a holder computes it once per file). By default the
 * holder's mesh runs in this process (both ends share one main thread; every figure so far was
 * taken so); `--holder-process`: the holder is a node process of its own (forked). CPU time
 * is both nodes'.
 * Flags: --mb N (default 300), --reps N (default 3), --holder-process.
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
import { multiaddr } from '@multiformats/multiaddr'
import { createLogger, silentLogger } from '../base/index.js'
import { ModelFetcher, ModelStore } from '../models/index.js'
import { createMesh, startMesh } from '../node/mesh/libp2p.js'
import { newSwarmKeyHex } from '../node/datadir/index.js'
import { spawnModelHolder, startModelHolder, type BenchHolder } from './bench/model-holder.js'
import { ownCpuMs, processCpuMs } from './bench/proc-cpu.js'

const run = promisify(execFile)
/** BENCH_DEBUG=1 logs the fetch's and the holder's debug lines (to stdout). */
const logger = process.env.BENCH_DEBUG === undefined ? silentLogger() : createLogger({ level: 'debug' })
const { values } = parseArgs({ options: { mb: { type: 'string', default: '300' }, reps: { type: 'string', default: '3' }, 'holder-process': { type: 'boolean', default: false } } })
const MB = Number(values.mb)
const REPS = Number(values.reps)
const ONE_PROCESS = !values['holder-process']
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)] }

const root = await mkdtemp(join(tmpdir(), 'gryphgen-bench-fetch-'))
const swarmKey = newSwarmKeyHex()
const fetcherMesh = await createMesh({ privateKey: await generateKeyPair('Ed25519'), swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
await startMesh(fetcherMesh, ['/ip4/127.0.0.1/tcp/0'])
let holder: (BenchHolder & { pid?: number }) | undefined
try {
  const chunks = Math.max(1, Math.round(MB / 4))
  holder = ONE_PROCESS ? await startModelHolder(root, swarmKey, chunks, logger) : await spawnModelHolder(root, swarmKey, chunks)
  const held = holder
  const holderPid = holder.pid
  await fetcherMesh.dial(multiaddr(held.address), { signal: AbortSignal.timeout(10_000) })
  const holders = async function * (): AsyncGenerator<ReturnType<typeof peerIdFromString>> { yield peerIdFromString(held.peerId) }
  const cpuMs = (): number => ownCpuMs() + (holderPid === undefined ? 0 : processCpuMs(holderPid))
  // Both nodes' CPU time during a fetch: all the transfer's work.
  const cpuSeconds: number[] = []
  const fetchOnce = async (dir: string): Promise<number> => {
    const store = await ModelStore.open({ dataDir: join(root, dir) })
    const fetcher = new ModelFetcher({ mesh: fetcherMesh, store, holders, logger })
    const started = performance.now()
    const cpu0 = cpuMs()
    const { model } = await fetcher.fetch({ name: 'bench', digest: held.digest, bytes: held.bytes }, { signal: AbortSignal.timeout(600_000) })
    const seconds = (performance.now() - started) / 1000
    cpuSeconds.push((cpuMs() - cpu0) / 1000)
    if (model.digest !== held.digest) throw new Error('fetched model has another digest')
    await rm(join(root, dir), { recursive: true, force: true })
    return seconds
  }
  const cpOnce = async (i: number): Promise<number> => {
    const target = join(root, `copy-${i}.gguf`)
    const started = performance.now()
    await run('cp', [held.path, target])
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
  const bytes = (await stat(held.path)).size
  const mbps = (s: number): string => (bytes / 1024 / 1024 / s).toFixed(0)
  const [f, c] = [median(fetchSeconds), median(cpSeconds)]
  console.log(`file: ${(bytes / 1024 / 1024).toFixed(0)} MiB, ${REPS} reps each (medians); holder ${ONE_PROCESS ? 'in this process' : 'in a process of its own'}; load average ${loadavg().map(l => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`)
  console.log(`cp + sync:            ${c.toFixed(2)} s  ${mbps(c)} MiB/s`)
  console.log(`mesh fetch (loopback): ${f.toFixed(2)} s  ${mbps(f)} MiB/s`)
  console.log(`fetch CPU (both nodes): ${(median(cpuSeconds.slice(1)) / (bytes / 1024 ** 3)).toFixed(1)} CPU-s per GiB; ${(median(cpuSeconds.slice(1)) / f * 100).toFixed(0)}% of one core`)
  console.log(`ratio fetch/cp throughput: ${(c / f).toFixed(2)}x (target >= 0.5x)`)
} finally {
  await holder?.stop()
  await fetcherMesh.stop()
  await rm(root, { recursive: true, force: true })
}
