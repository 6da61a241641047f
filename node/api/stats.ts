/** GET /v1/stats/history: the node's in-memory load history for the dashboard's charts (node/stats). */
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

export interface ApiStats {
  statsHistory: () => StatsHistoryT
}

export function statsRoutes (app: FastifyInstance, stats: ApiStats): void {
  app.get('/v1/stats/history', { schema: { response: { 200: StatsHistoryBody } } }, async () => stats.statsHistory())
}
