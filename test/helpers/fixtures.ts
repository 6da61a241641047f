import type { WorkerPoolStats } from '../../workers/index.js'
import type { Capabilities } from '../../protocols/advert.js'

/** A plausible capability set for tests of pure logic. */
export const caps: Capabilities = {
  name: 'n1', version: '0.1.0', nodeVersion: '20.20.2',
  os: { platform: 'linux', distro: 'Debian', release: '12' },
  cpu: { model: 'x', cores: 8, physicalCores: 4, speedGHz: 3, arch: 'x64' },
  memory: { totalMb: 16000, availableMb: 8000 },
  gpus: [{ vendor: 'nvidia', model: 'RTX 4090', vramMb: 24576 }],
  diskFreeMb: 100000,
  load: { avg1: 0.5, cpuPercent: 10 },
  labels: ['fast'],
  sandbox: null,
  models: [],
}

const kindStats = { queued: 0, running: 0, idle: 2, workers: 2, capacity: 2, completed: 0, failed: 0, cancelled: 0, lost: 0, size: 2, starting: 0, external: 0, restarts: 0 }

/** Worker pool statistics as GET /v1/node shows them. */
export const workerStats: WorkerPoolStats = {
  state: 'running',
  endpoint: 'ipc:///tmp/x/workers.sock',
  kinds: { exec: kindStats, model: { ...kindStats, idle: 0, workers: 0, capacity: 0, size: 0 } },
  frames: { malformedFrames: 0, unauthorized: 0, unknownPeerMessages: 0, unexpectedResults: 0 },
}

/** GET /v1/node's `tasks` of an idle node. */
export const taskStats = { auctioneering: 0, queued: 0, running: 0, auctions: {}, leases: {} }
