/**
 * `durability: 'replicated'`: push the submission's entry to connected peers and wait until
 * one of them has fsynced it (`replicate` -> `stored`). Up to REPLICAS peers are asked at
 * once; the first confirmation wins. None within the deadline -> ReplicationError (the task
 * is durable on this node and goes on; only the stronger promise failed).
 */
import { expectAuctionMessage, type Entry } from '../protocols/index.js'
import type { TasksMesh } from './mesh.js'
import { ReplicationError } from './errors.js'
import type { AuctionWire } from './wire.js'

const REPLICAS = 3
const DEADLINE_MS = 5000

export async function replicate (wire: Pick<AuctionWire, 'request'>, mesh: Pick<TasksMesh, 'getConnections'>, entries: Entry[], signal?: AbortSignal): Promise<string> {
  const peers = [...new Set(mesh.getConnections().map(c => c.remotePeer.toString()))].slice(0, REPLICAS)
  const task = entries[0]?.task
  if (peers.length === 0) throw new ReplicationError(`task ${task} is durable on this node, but no other node is connected to replicate it to`)
  try {
    return await Promise.any(peers.map(async peer => {
      expectAuctionMessage(await wire.request(peer, { t: 'replicate', entries }, { signal, timeoutMs: DEADLINE_MS }), 'stored')
      return peer
    }))
  } catch (err) {
    const reasons = err instanceof AggregateError ? err.errors.map(e => (e as Error).message) : [(err as Error).message]
    throw new ReplicationError(`task ${task} is durable on this node, but no other node confirmed it: ${reasons.join('; ')}`, { details: reasons })
  }
}
