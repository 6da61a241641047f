/**
 * What the task system needs of the mesh, as narrow interfaces the node's libp2p satisfies:
 * protocol handlers and dials (auction sessions), connections (liveness, replication), one
 * gossip topic (leases), and the live peers from their adverts (candidates).
 */
import type { Libp2p } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Advert } from '../protocols/index.js'

export type TasksPubsub = Pick<GossipSub, 'topicValidators' | 'subscribe' | 'unsubscribe' | 'publish'>

export interface TasksMesh extends Pick<Libp2p, 'peerId' | 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections'> {
  services: { pubsub: TasksPubsub }
}

/** Peers seen alive through their adverts (the node's advert service). */
export interface LivePeers {
  livePeers: () => ReadonlyArray<{ advert: Advert }>
}
