/**
 * What the metrics read, built from the node's parts; each part is looked up at scrape time, so a
 * part that is gone (the node stopping) reports nothing.
 */
import type { TaskLedger, LedgerSync } from '../../ledger/index.js'
import type { TaskService } from '../../tasks/index.js'
import type { WorkerPool } from '../../workers/index.js'
import type { AdvertService } from '../capabilities/advert-service.js'
import type { Mesh } from '../mesh/libp2p.js'
import type { ModelCatalog } from '../models/index.js'
import type { MetricsSources } from './node-metrics.js'

export interface NodeParts {
  peerId: string
  dbDir: string
  ledger: TaskLedger
  sync: () => LedgerSync | undefined
  tasks: () => TaskService | undefined
  workers: () => WorkerPool | undefined
  adverts: () => AdvertService | undefined
  mesh: () => Mesh | undefined
  models: () => ModelCatalog | undefined
}

export function metricsSources (p: NodeParts): MetricsSources {
  return {
    peerId: p.peerId,
    dbDir: p.dbDir,
    events: p.ledger.events,
    workers: () => p.workers()?.stats(),
    tasks: () => {
      const t = p.tasks()
      return t === undefined
        ? undefined
        : { counts: t.runner.counts, held: t.runner.held().length, auctions: t.auctioneer.stats, bidRequests: t.wire.stats.bidRequests, leases: t.leases.stats, leaseTiming: t.leases.timing() }
    },
    ledger: () => ({ entries: p.ledger.entryCount(), indexed: p.ledger.indexedCount(), held: p.ledger.stats.held, versionVector: p.ledger.versionVector() }),
    sync: () => p.sync()?.stats,
    adverts: () => p.adverts()?.stats,
    peersConnected: () => {
      const mesh = p.mesh()
      return mesh === undefined ? undefined : new Set(mesh.getConnections().map(c => c.remotePeer.toString())).size
    },
    models: () => p.models()?.capabilities(),
  }
}
