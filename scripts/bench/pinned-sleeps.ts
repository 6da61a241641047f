/**
 * Issue 20's lease scenario, for `npm run bench:leases` and its CI test
 * (test/process/lease-pinned.test.ts): a 3-process loopback mesh (LocalMesh) where one node,
 * labelled `sleeper`, is the only one that can run the sleeping tasks (`exec sleep N`, pinned
 * through `requirements.labels`); the two others are their auctioneers (submissions alternate
 * between them, so every lease travels over gossip) and, with `fill` (--busy), run CPU-bound
 * sandboxed tasks (label `load`). `slots` submitters keep the holder's slots full for
 * `durationMs`, each submitting the next task when its last one ended. Every `sampleMs` it
 * reads the load average and every node's /metrics (the holder's event-loop delay and renewal
 * interval, the auctioneers' lease margins for the holder). At the end it waits for the tasks
 * in flight, reads every task's history from every node's ledger, merges them and computes the
 * figures (lease-figures.ts). Nothing is killed: every node process is watched, and one that
 * exits is reported. Every loop is bounded by time; every process is stopped by PID.
 */
import { loadavg } from 'node:os'
import { LocalMesh, api, until, type MeshNode } from './mesh.js'
import { gaugeValues, leaseFigures, Samples, type HistoryEntry, type LeaseFigures } from './lease-figures.js'

export interface PinnedSleepOptions {
  durationMs: number
  /** Sleeping tasks in flight at once: the holder's exec slots. */
  slots: number
  /** Each task sleeps between these many seconds (spread evenly by a fixed sequence). */
  sleepMinS: number
  sleepMaxS: number
  /** Lease settings of every node; absent: the node's defaults. */
  auction?: { leaseMs: number, heartbeatMs: number }
  /** How often the load and /metrics are sampled (default 2 s). */
  sampleMs?: number
  /** CPU load through the mesh (--busy): called with an auctioneer once the mesh is up; its result stops it. */
  fill?: (node: MeshNode, labels: string[]) => Promise<() => Promise<void>>
  /** Keep the mesh's folder (data dirs and each node's `node.log`) after the run. */
  keep?: boolean
  log: (line: string) => void
  signal?: AbortSignal
}

export interface PinnedSleepResult {
  submitted: number
  failedSubmits: number
  states: Record<string, number>
  figures: LeaseFigures
  /** The holder's event-loop delay as its lease board measures it (p99 of each heartbeat; max of the last 10 leases), ms. */
  holderLoopP99Ms: Samples
  holderLoopMaxMs: Samples
  /** prom-client's event-loop delay of the holder, per scrape interval (10 ms resolution, included), ms. */
  holderPromP99Ms: Samples
  holderPromMaxMs: Samples
  /** The delay until the holder's next renewal, ms. */
  renewalIntervalMs: Samples
  /** The margin the auctioneers added to the lease for the holder's leases, ms. */
  marginMs: Samples
  leaseMs: number
  heartbeatMs: number
  load: Samples
  /** Node processes that exited during the run (none expected). */
  exits: string[]
  root: string
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])
const HOLDER_LABEL = 'sleeper'
const LOAD_LABEL = 'load'
const sleep = async (ms: number, signal?: AbortSignal): Promise<void> => new Promise(resolve => {
  const done = (): void => { clearTimeout(t); signal?.removeEventListener('abort', done); resolve() }
  const t = setTimeout(done, ms)
  signal?.addEventListener('abort', done, { once: true })
})

async function metrics (node: MeshNode): Promise<string> {
  const res = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${node.token}` }, signal: AbortSignal.timeout(10_000) })
  return await res.text()
}

export async function runPinnedSleeps (o: PinnedSleepOptions): Promise<PinnedSleepResult> {
  const mesh = new LocalMesh()
  const base = { workers: { model: { size: 0 } }, ...(o.auction === undefined ? {} : { auction: o.auction }) }
  const r: PinnedSleepResult = {
    submitted: 0, failedSubmits: 0, states: {}, figures: leaseFigures(new Map()),
    holderLoopP99Ms: new Samples(), holderLoopMaxMs: new Samples(), holderPromP99Ms: new Samples(), holderPromMaxMs: new Samples(),
    renewalIntervalMs: new Samples(), marginMs: new Samples(),
    leaseMs: o.auction?.leaseMs ?? 5000, heartbeatMs: o.auction?.heartbeatMs ?? 1000, load: new Samples(), exits: [], root: '',
  }
  let stopFill = async (): Promise<void> => {}
  const exits: string[] = []
  try {
    const [a, b, holder] = await mesh.start([
      { name: 'a', config: { ...base, labels: [LOAD_LABEL], workers: { ...base.workers, exec: { size: 1 } } } },
      { name: 'b', config: { ...base, labels: [LOAD_LABEL], workers: { ...base.workers, exec: { size: 1 } } } },
      { name: 'holder', config: { ...base, labels: [HOLDER_LABEL], workers: { ...base.workers, exec: { size: 1, slots: o.slots } } } },
    ], { logFiles: true, logLevel: 'info' })
    r.root = mesh.root
    for (const n of mesh.nodes) n.child.once('exit', (code, signal) => { exits.push(`${n.name} (${signal ?? code})`) })
    // The auctioneers must see the holder's sandbox before a sleeper can be placed.
    await until(async () => {
      for (const n of [a, b]) {
        const peers = (await api<{ peers: Array<{ capabilities: { sandbox: { available: boolean } | null } }> }>(n, 'GET', '/v1/peers')).peers
        if (peers.length < 2 || !peers.every(p => p.capabilities.sandbox?.available === true)) return undefined
      }
      return true
    }, 180_000, 200)
    if (o.fill !== undefined) stopFill = await o.fill(a, [LOAD_LABEL])
    o.log(`mesh up (${mesh.root}); ${o.slots} sleeping tasks (${o.sleepMinS}-${o.sleepMaxS} s) in flight, pinned to the holder, for ${Math.round(o.durationMs / 1000)} s`)

    const ids: string[] = []
    const deadline = Date.now() + o.durationMs
    const span = Math.max(0, o.sleepMaxS - o.sleepMinS)
    let k = 0
    const nextSleep = (): number => o.sleepMinS + (span === 0 ? 0 : ((k++ * 7919) % (span * 10 + 1)) / 10)
    const auctioneers = [a, b]
    const submitter = async (i: number): Promise<void> => {
      for (let n = 0; Date.now() < deadline && o.signal?.aborted !== true && n < 100_000; n++) {
        const node = auctioneers[(i + n) % 2]
        const seconds = nextSleep()
        const id = (await api<{ id: string }>(node, 'POST', '/v1/tasks', {
          kind: 'exec', command: ['sleep', String(seconds)],
          requirements: { cpus: 1, memoryMb: 32, labels: [HOLDER_LABEL] }, limits: { timeoutMs: (seconds + 120) * 1000 },
        }).catch(() => undefined))?.id
        if (id === undefined) { r.failedSubmits++; await sleep(500, o.signal); continue }
        ids.push(id)
        r.submitted++
        // The next one once this one ended (bounded: its sleep plus the patience a crowded machine needs).
        await until(async () => TERMINAL.has((await api<{ state: string }>(node, 'GET', `/v1/tasks/${id}`)).state) ? true : undefined, (seconds + 180) * 1000, 500).catch(() => {})
      }
    }
    let submitting = true
    const sampler = async (): Promise<void> => {
      const holderLabel = `holder="${holder.peerId}"`
      while (submitting && o.signal?.aborted !== true) {
        r.load.add(loadavg()[0])
        const [hm, am, bm] = await Promise.all([holder, a, b].map(async n => metrics(n).catch(() => '')))
        const one = (name: string, stat?: string): number => (gaugeValues(hm, name).find(g => stat === undefined || g.labels === `stat="${stat}"`)?.value ?? NaN) * 1000
        r.holderLoopP99Ms.add(one('gryphgen_lease_loop_delay_seconds', 'p99'))
        r.holderLoopMaxMs.add(one('gryphgen_lease_loop_delay_seconds', 'max'))
        r.holderPromP99Ms.add(one('nodejs_eventloop_lag_p99_seconds'))
        r.holderPromMaxMs.add(one('nodejs_eventloop_lag_max_seconds'))
        r.renewalIntervalMs.add(one('gryphgen_lease_renewal_interval_seconds'))
        for (const text of [am, bm]) for (const g of gaugeValues(text, 'gryphgen_lease_margin_seconds')) if (g.labels === holderLabel) r.marginMs.add(g.value * 1000)
        await sleep(o.sampleMs ?? 2000, o.signal)
      }
    }
    // Sampled until the last task in flight ended: the leases matter until then.
    const sampling = sampler()
    await Promise.all(Array.from({ length: o.slots }, async (_, i) => submitter(i)))
    submitting = false
    await sampling
    o.log(`${r.submitted} submitted; every task ended or given up on`)
    await stopFill()
    stopFill = async () => {}

    // Every node's history of every task, merged by entry id (a node's ledger may lag by a sync).
    await sleep(3 * r.heartbeatMs)
    const histories = new Map<string, HistoryEntry[]>()
    for (const id of ids) {
      const union = new Map<string, HistoryEntry>()
      for (const n of mesh.nodes) {
        const h = await api<{ entries: Array<HistoryEntry & { id: string }> }>(n, 'GET', `/v1/tasks/${id}/history`).catch(() => ({ entries: [] }))
        for (const e of h.entries) union.set(e.id, e)
      }
      histories.set(id, [...union.values()])
      const state = (await api<{ state: string }>(auctioneers[0], 'GET', `/v1/tasks/${id}`).catch(() => ({ state: 'unknown' }))).state
      r.states[state] = (r.states[state] ?? 0) + 1
    }
    r.figures = leaseFigures(histories)
    r.exits = [...exits] // what happened during the run, not the stop below
    return r
  } finally {
    await stopFill().catch(() => {})
    await mesh.stop({ keep: o.keep })
  }
}
