/**
 * The mesh as the auction sees it: which nodes are alive (connected, or heard from within a
 * lease), each live peer's view from its advert, this node's own view, every node's relative
 * speed, and the mesh's shape (what feasibility depends on: when it changes, blocked tasks are
 * tried again). Views are the adverts' facts; the auctioneer prices its own in-flight awards
 * into them.
 */
import type { Capabilities } from '../protocols/index.js'
import { nodeView, type NodeView } from '../scheduler/index.js'
import type { LivePeers, TasksMesh } from './mesh.js'

export interface CandidatesComponents {
  peerId: string
  mesh: Pick<TasksMesh, 'getConnections'>
  adverts: LivePeers
  capabilities: { current: () => Promise<Capabilities> }
  /** When a node's lease renewal was last heard (leases.ts). */
  heard: (node: string) => number | undefined
  leaseMs: number
}

export class Candidates {
  readonly #c: CandidatesComponents
  readonly #speeds = new Map<string, number>()
  #self: NodeView | undefined

  constructor (components: CandidatesComponents) {
    this.#c = components
  }

  /** This node's view (undefined until its capabilities are first read). */
  get self (): NodeView | undefined { return this.#self }

  /** A node's speed relative to the reference (1 when unknown). */
  speedOf (node: string): number { return this.#speeds.get(node) ?? 1 }

  async refreshSelf (): Promise<void> {
    this.#self = nodeView(this.#c.peerId, await this.#c.capabilities.current())
    this.#speeds.set(this.#c.peerId, this.#self.speed)
  }

  connected (): Set<string> {
    return new Set(this.#c.mesh.getConnections().map(c => c.remotePeer.toString()))
  }

  /** Alive: this node, a connected one, or one whose lease renewal was heard within a lease. */
  alive (node: string, now: number, connected = this.connected()): boolean {
    if (node === this.#c.peerId || connected.has(node)) return true
    const heard = this.#c.heard(node)
    return heard !== undefined && now - heard <= this.#c.leaseMs
  }

  /** Live peers' views from their adverts (this node excluded). */
  peerViews (now = Date.now()): NodeView[] {
    const connected = this.connected()
    const views: NodeView[] = []
    for (const p of this.#c.adverts.livePeers()) {
      const id = p.advert.peerId
      if (id === this.#c.peerId || !this.alive(id, now, connected)) continue
      const view = nodeView(id, p.advert.capabilities)
      this.#speeds.set(id, view.speed)
      views.push(view)
    }
    return views
  }

  /** This node and every live peer, by id. */
  liveNodes (now: number, connected = this.connected()): string[] {
    return [this.#c.peerId, ...this.#c.adverts.livePeers().map(p => p.advert.peerId).filter(id => id !== this.#c.peerId && this.alive(id, now, connected))]
  }

  /** What feasibility depends on, for every live node, as one comparable string. */
  shape (): string {
    const peer = (id: string, c: Capabilities): string => `${id}:${c.cpu.cores}:${c.memory.totalMb}:${c.cpu.arch}:${c.labels.join(',')}:${c.gpus.map(g => g.vramMb).join(',')}:${c.models.map(m => m.name).join(',')}:${String(c.sandbox?.available)}:${c.sandbox?.runtimes.join(',') ?? ''}`
    const self = this.#self === undefined ? '' : `${this.#self.labels.join(',')}:${String(this.#self.sandboxAvailable)}:${this.#self.runtimes.join(',')}:${this.#self.models.join(',')}`
    return `${self}|${this.#c.adverts.livePeers().map(p => peer(p.advert.peerId, p.advert.capabilities)).sort().join('|')}`
  }
}
