/**
 * GET /v1/stats/history: the node's in-memory load history for the dashboard's charts
 * (node/stats); GET /v1/ledger/peers: each peer's sync lag as of its last sync from this node.
 */
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'

export const StatsHistoryBody = Type.Object({
  intervalMs: Type.Integer({ description: 'time between two samples' }),
  samples: Type.Array(Type.Object({
    at: Type.Integer({ description: 'ms since the epoch' }),
    transitions: Type.Record(Type.String(), Type.Integer(), { description: 'tasks that entered each state since the previous sample' }),
    nodes: Type.Array(Type.Object({
      peerId: Type.String(),
      name: Type.String(),
      cpuPercent: Type.Number(),
      queued: Type.Integer({ description: 'tasks awarded to the node and not started' }),
      running: Type.Integer(),
    })),
  }), { description: 'oldest first; the last hour at most' }),
})
export type StatsHistoryT = Type.Static<typeof StatsHistoryBody>

export const LedgerPeersBody = Type.Object({
  peers: Type.Array(Type.Object({
    peerId: Type.String(),
    behind: Type.Integer({ description: "entries of this node's ledger the peer lacked when it last synced from this node" }),
    syncedAt: Type.Integer({ description: 'ms since the epoch' }),
  })),
})
export type LedgerPeersT = Type.Static<typeof LedgerPeersBody>

export interface ApiStats {
  statsHistory: () => StatsHistoryT
  ledgerPeers: () => LedgerPeersT
}

export function statsRoutes (app: FastifyInstance, stats: ApiStats): void {
  app.get('/v1/stats/history', { schema: { response: { 200: StatsHistoryBody } } }, async () => stats.statsHistory())
  app.get('/v1/ledger/peers', { schema: { response: { 200: LedgerPeersBody } } }, async () => stats.ledgerPeers())
}
