export { StatsHistory, type StatsHistoryInit, type StatsSample, type StatsSource, type NodeSample } from './history.js'
export { Ring } from './ring.js'
export { syncLag, type PeerLag } from './sync-lag.js'
