/**
 * Metrics read at scrape time from the counters and tables the components already keep (pool
 * stats, auction/lease/advert/sync counters, the ledger's heads): nothing is counted twice and
 * the components hold no reference to prom-client. A source that is gone (node stopping)
 * reports nothing rather than failing the scrape.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Counter, Gauge, type Registry } from 'prom-client'

/** The narrow views of the node's components that the scrape reads. */
export interface ScrapeSources {
  workers: () => { kinds: Record<string, { queued: number, running: number, restarts: number, workers: number }> } | undefined
  tasks: () => {
    counts: { queued: number, running: number }
    held: number
    auctions: { auctions: number, awards: number, declines: number, expired: number, noBids: number, bids: number }
    bidRequests: number
    leases: { published: number, received: number, rejected: number }
    /** What the lease rules use now (tasks/leases.ts `timing`), ms. */
    leaseTiming: { loopDelayP99Ms: number, loopDelayMaxMs: number, renewalIntervalMs: number, margins: Array<{ node: string, marginMs: number }> }
  } | undefined
  ledger: () => { entries: number, indexed: number, held: number, versionVector: Record<string, number> } | undefined
  sync: () => { syncs: number, syncFailures: number, entriesPulled: number, entriesServed: number } | undefined
  adverts: () => { published: number, accepted: number, rejected: number, stale: number } | undefined
  peersConnected: () => number | undefined
  models: () => Array<{ name: string, loaded: boolean, generationTokensPerSecond?: number }> | undefined
  /** The node's LevelDB directory (ledger, peer book, corpora). */
  dbDir: string
}

type Labels = Record<string, string>

/** A counter whose value is read from elsewhere at scrape time. */
function readCounter<L extends string> (registry: Registry, name: string, help: string, labelNames: L[], read: () => Array<[Labels, number]> | undefined): void {
  new Counter<L>({ // eslint-disable-line no-new -- registered in the registry
    name, help, labelNames, registers: [registry],
    collect () {
      this.reset()
      for (const [labels, value] of read() ?? []) this.inc(labels as Partial<Record<L, string>>, value)
    },
  })
}

function readGauge<L extends string> (registry: Registry, name: string, help: string, labelNames: L[], read: () => Array<[Labels, number]> | undefined | Promise<Array<[Labels, number]> | undefined>): void {
  new Gauge<L>({ // eslint-disable-line no-new -- registered in the registry
    name, help, labelNames, registers: [registry],
    async collect () {
      this.reset()
      for (const [labels, value] of await read() ?? []) this.set(labels as Partial<Record<L, string>>, value)
    },
  })
}

const one = (value: number | undefined): Array<[Labels, number]> | undefined => value === undefined ? undefined : [[{}, value]]
const byKey = (label: string, values: Record<string, number> | undefined, keys?: string[]): Array<[Labels, number]> | undefined =>
  values === undefined ? undefined : (keys ?? Object.keys(values)).map(k => [{ [label]: k }, values[k as keyof typeof values]])

async function directoryBytes (dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir).catch(() => [])) total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size
  return total
}

export function registerScraped (registry: Registry, s: ScrapeSources): void {
  const kinds = (field: 'queued' | 'running' | 'restarts' | 'workers'): Array<[Labels, number]> | undefined => {
    const stats = s.workers()
    return stats === undefined ? undefined : Object.entries(stats.kinds).map(([kind, k]) => [{ worker_kind: kind }, k[field]])
  }
  readGauge(registry, 'gryphgen_worker_queue_depth', 'Work waiting for a worker, by worker kind', ['worker_kind'], () => kinds('queued'))
  readGauge(registry, 'gryphgen_worker_running', 'Work running in workers, by worker kind', ['worker_kind'], () => kinds('running'))
  readGauge(registry, 'gryphgen_workers_ready', 'Ready worker processes, by worker kind', ['worker_kind'], () => kinds('workers'))
  readCounter(registry, 'gryphgen_worker_restarts_total', 'Worker processes the pool replaced, by worker kind', ['worker_kind'], () => kinds('restarts'))

  const tasks = s.tasks
  readGauge(registry, 'gryphgen_tasks_queued', 'Tasks awarded to this node waiting to start', [], () => one(tasks()?.counts.queued))
  readGauge(registry, 'gryphgen_tasks_running', 'Tasks running on this node', [], () => one(tasks()?.counts.running))
  readGauge(registry, 'gryphgen_leases_held', 'Task leases this node holds (queued and running tasks)', [], () => one(tasks()?.held))
  readCounter(registry, 'gryphgen_leases_expired_total', 'Leases of this node\'s auctions that lapsed (holder silent): the task was re-auctioned', [], () => one(tasks()?.auctions.expired))
  readCounter(registry, 'gryphgen_lease_messages_total', 'Lease heartbeats, by direction (published, received, rejected)', ['direction'], () => byKey('direction', tasks()?.leases))
  const timing = (): { loopDelayP99Ms: number, loopDelayMaxMs: number, renewalIntervalMs: number, margins: Array<{ node: string, marginMs: number }> } | undefined => tasks()?.leaseTiming
  readGauge(registry, 'gryphgen_lease_loop_delay_seconds', 'Event-loop delay as the lease rules measure it: p99 of the last heartbeat, max within the last 10 leases', ['stat'], () => {
    const t = timing()
    return t === undefined ? undefined : [[{ stat: 'p99' }, t.loopDelayP99Ms / 1000], [{ stat: 'max' }, t.loopDelayMaxMs / 1000]]
  })
  readGauge(registry, 'gryphgen_lease_renewal_interval_seconds', 'Delay until this node\'s next lease renewal (shortened when its event loop runs late)', [], () => {
    const t = timing()
    return t === undefined ? undefined : one(t.renewalIntervalMs / 1000)
  })
  readGauge(registry, 'gryphgen_lease_margin_seconds', 'Margin this node adds to the lease before it judges a holder\'s leases expired, per holder (its measured renewal lateness plus this node\'s loop delay)', ['holder'], () =>
    timing()?.margins.map(m => [{ holder: m.node }, m.marginMs / 1000] as [Labels, number]))
  readCounter(registry, 'gryphgen_auctions_total', 'Auctions run by this node, by result (auctions: rounds started; awards; declines; no_bids)', ['result'], () => {
    const a = tasks()?.auctions
    return a === undefined ? undefined : [[{ result: 'auctions' }, a.auctions], [{ result: 'awards' }, a.awards], [{ result: 'declines' }, a.declines], [{ result: 'no_bids' }, a.noBids]]
  })
  readCounter(registry, 'gryphgen_bids_received_total', 'Bids this node\'s auctions got (its own bid included)', [], () => one(tasks()?.auctions.bids))
  readCounter(registry, 'gryphgen_bids_sent_total', 'Bid requests this node answered (a bid or a reason it cannot run the task)', [], () => one(tasks()?.bidRequests))

  readGauge(registry, 'gryphgen_ledger_entries', 'Entries in this node\'s ledger', [], () => one(s.ledger()?.entries))
  readGauge(registry, 'gryphgen_ledger_indexed', 'Entries folded into the task index', [], () => one(s.ledger()?.indexed))
  readGauge(registry, 'gryphgen_ledger_held_entries', 'Entries held until their predecessors arrive (a sync gap)', [], () => one(s.ledger()?.held))
  readGauge(registry, 'gryphgen_ledger_author_seq', 'Highest entry sequence this node holds per author (lag: max over nodes minus this)', ['author'], () => byKey('author', s.ledger()?.versionVector))
  readGauge(registry, 'gryphgen_ledger_db_bytes', 'Bytes of the node\'s LevelDB directory (ledger, peer book, corpora)', [], async () => one(await directoryBytes(s.dbDir)))
  readCounter(registry, 'gryphgen_ledger_sync_total', 'Ledger sync activity (syncs, sync_failures, entries_pulled, entries_served)', ['what'], () => {
    const y = s.sync()
    return y === undefined ? undefined : [[{ what: 'syncs' }, y.syncs], [{ what: 'sync_failures' }, y.syncFailures], [{ what: 'entries_pulled' }, y.entriesPulled], [{ what: 'entries_served' }, y.entriesServed]]
  })

  readGauge(registry, 'gryphgen_peers_connected', 'Peers with an open connection', [], () => one(s.peersConnected()))
  readCounter(registry, 'gryphgen_adverts_total', 'Capability adverts, by direction (published, accepted, rejected, stale)', ['direction'], () => byKey('direction', s.adverts()))

  readGauge(registry, 'gryphgen_model_tokens_per_second', 'Measured generation speed of this node\'s models', ['model'], () =>
    s.models()?.flatMap(m => m.generationTokensPerSecond === undefined ? [] : [[{ model: m.name }, m.generationTokensPerSecond] as [Labels, number]]))
  readGauge(registry, 'gryphgen_model_loaded', 'Whether a model is loaded in memory (1) or not (0)', ['model'], () => s.models()?.map(m => [{ model: m.name }, m.loaded ? 1 : 0]))
}
