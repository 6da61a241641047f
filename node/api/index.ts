export { buildApp, type ApiNode, type AppInit } from './app.js'
export type { NodeBodyT, PeerViewT, LedgerStatusT, HistoryT, CompactBodyT } from './schemas.js'
export type { ApiTasks } from './tasks.js'
export type { ApiCorpora } from './corpora.js'
