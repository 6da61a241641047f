/** Ledger routes: status (with retention figures), a task's history (or its summary), compact now. */
import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '../../base/index.js'
import { CompactBody, CompactRequest, HistoryBody, LedgerStatusBody, TaskIdParams, type CompactBodyT, type HistoryT, type LedgerStatusT } from './schemas.js'

export interface ApiLedger {
  ledgerStatus: () => LedgerStatusT
  /** The retention figures of GET /v1/ledger/status (they read the disk). */
  ledgerRetention: () => Promise<Partial<LedgerStatusT>>
  taskHistory: (id: string) => Promise<HistoryT | undefined>
  compactLedger: (options: { olderThanMs?: number, signal?: AbortSignal }) => Promise<CompactBodyT>
}

export function ledgerRoutes (app: FastifyInstance, ledger: ApiLedger): void {
  app.get('/v1/ledger/status', { schema: { response: { 200: LedgerStatusBody } } }, async () => ({ ...ledger.ledgerStatus(), ...await ledger.ledgerRetention() }))

  app.post('/v1/ledger/compact', { schema: { body: CompactRequest, response: { 200: CompactBody } } }, async (request) => {
    const body = request.body as { olderThanMs?: number }
    return ledger.compactLedger({ olderThanMs: body.olderThanMs, signal: AbortSignal.timeout(600_000) })
  })

  app.get('/v1/tasks/:id/history', { schema: { params: TaskIdParams, response: { 200: HistoryBody } } }, async (request) => {
    const { id } = request.params as { id: string }
    const history = await ledger.taskHistory(id)
    if (history === undefined) throw new NotFoundError(`no task ${id} in the ledger`)
    return history
  })
}
