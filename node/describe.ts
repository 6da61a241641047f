/**
 * What the node says about itself and its peers (GET /v1/node, GET /v1/peers), read from its
 * running parts; and opening its LevelDB with errors a person can act on.
 */
import type { FetchProgress } from '../models/index.js'
import { ClassicLevel } from 'classic-level'
import { DataDirError } from '../base/index.js'
import type { TaskService } from '../tasks/index.js'
import type { WorkerPool } from '../workers/index.js'
import type { ApiTasks, NodeBodyT, PeerViewT } from './api/index.js'
import type { BlobService } from '../blobs/index.js'
import type { AdvertService } from './capabilities/advert-service.js'
import type { CapabilitySource } from './capabilities/source.js'
import type { BootstrapKeeper } from './mesh/bootstrap.js'
import type { Mesh } from './mesh/libp2p.js'

export interface NodeParts {
  peerId: string
  name: string
  startedAt: Date
  mdns: boolean
  addresses: string[]
  mesh: Pick<Mesh, 'getConnections'>
  capabilities: Pick<CapabilitySource, 'current'>
  adverts: Pick<AdvertService, 'stats'>
  bootstrap: Pick<BootstrapKeeper, 'lastOutcome' | 'addresses'> | undefined
  workers: Pick<WorkerPool, 'stats'>
  tasks: Pick<TaskService, 'auctioneer' | 'runner' | 'leases'>
  /** Model fetches of this run, going and recent. */
  modelFetches?: FetchProgress[]
}

export async function describeNode (p: NodeParts): Promise<NodeBodyT> {
  const connections = p.mesh.getConnections()
  return {
    peerId: p.peerId,
    name: p.name,
    startedAt: p.startedAt.toISOString(),
    addresses: p.addresses,
    connections: {
      inbound: connections.filter(c => c.direction === 'inbound').length,
      outbound: connections.filter(c => c.direction === 'outbound').length,
    },
    capabilities: await p.capabilities.current(),
    adverts: { ...p.adverts.stats },
    bootstrap: [...(p.bootstrap?.lastOutcome.values() ?? [])],
    bootstrapAddresses: [...(p.bootstrap?.addresses ?? [])],
    mdns: p.mdns,
    workers: p.workers.stats(),
    ...(p.modelFetches === undefined ? {} : { modelFetches: p.modelFetches }),
    tasks: {
      auctioneering: p.tasks.auctioneer.count,
      ...p.tasks.runner.counts,
      auctions: { ...p.tasks.auctioneer.stats },
      leases: { ...p.tasks.leases.stats },
    },
  }
}

/** Live peers from their adverts, with whether a connection to each is open now. */
export function peerViews (adverts: Pick<AdvertService, 'livePeers'>, mesh: Pick<Mesh, 'getConnections'>): PeerViewT[] {
  const connected = new Set(mesh.getConnections().map(c => c.remotePeer.toString()))
  return adverts.livePeers().map(p => ({
    peerId: p.advert.peerId,
    addresses: p.advert.addresses,
    capabilities: p.advert.capabilities,
    lastSeen: new Date(p.lastSeen).toISOString(),
    clockSkewMs: Math.round(p.clockSkewMs),
    connected: connected.has(p.advert.peerId),
  }))
}

export async function openDb (path: string): Promise<ClassicLevel<string, string>> {
  const db = new ClassicLevel<string, string>(path, { valueEncoding: 'utf8' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') throw new DataDirError(`${path} is in use by another process: is a gryphgen node already running with this data dir?`, { cause: err })
    throw new DataDirError(`cannot open LevelDB at ${path}: ${(err as Error).message}`, { cause: err })
  }
  return db
}

/** The task service as the API sees it: user submissions are admitted (model and corpus checks). */
export function apiTasks (service: TaskService, blobs: () => Pick<BlobService, 'get'>): ApiTasks {
  return {
    submit: async (body, options) => service.submit(body, { ...options, admit: true }),
    get: async id => service.get(id),
    list: async options => service.list(options),
    listPage: async options => service.listPage(options),
    cancel: async id => service.cancel(id),
    submitWatched: async (body, listener, options) => service.submit(body, { ...options, listener }),
    subscribe: (id, listener, states, lastEventId) => id === '*' ? service.subscribeAll(listener, states, lastEventId) : service.subscribe(id, listener, lastEventId),
    getBlob: async (digest, options) => blobs().get(digest, options),
    feedback: async (id, body) => service.feedback(id, body),
  }
}
