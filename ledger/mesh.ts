/** What the ledger's sync and summary fetcher use of libp2p: a narrow face, injected. */
import type { Libp2p } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'

export interface LedgerMesh extends Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections' | 'addEventListener' | 'removeEventListener'> {
  services: { pubsub: Pick<GossipSub, 'topicValidators' | 'subscribe' | 'publish' | 'getSubscribers'> }
}
