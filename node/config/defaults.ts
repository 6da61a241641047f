import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import type { Config } from './schema.js'

export const DEFAULT_P2P_PORT = 7410
export const DEFAULT_API_PORT = 7411
export const CONFIG_FILE_NAME = 'gryphgen.json'

export function defaultDataDir (): string {
  return join(homedir(), '.gryphgen')
}

export function defaultConfig (): Config {
  return {
    dataDir: defaultDataDir(),
    name: hostname().slice(0, 64) || 'gryphgen',
    listen: [`/ip4/0.0.0.0/tcp/${DEFAULT_P2P_PORT}`],
    apiHost: '127.0.0.1',
    apiPort: DEFAULT_API_PORT,
    bootstrap: [],
    mdns: true,
    labels: [],
    resources: {},
    logLevel: 'info',
    workers: {},
    advert: { baseIntervalMs: 5000, maxReceiveRate: 20 },
    models: { threads: 'auto', memoryBudgetMb: 'auto', sequences: 4, contextSize: 4096, gpuLayers: 'auto', autoFetch: false, fetchMaxMb: 65_536 },
    apiLimits: { bodyReadTimeoutMs: 10_000, documentsBodyMb: 16, heavyConcurrency: 1, heavyQueue: 8 },
    metrics: { public: false, libp2p: false },
    api: { cors: { origins: [] } },
    ledger: { retention: { afterMs: 7 * 86_400_000, everyMs: 3_600_000, summariesMs: 90 * 86_400_000 } },
    blobs: { maxMb: 10_240, keepUnreferencedMs: 7 * 86_400_000, gcIntervalMs: 600_000 },
    priority: { taskNice: 10, modelNice: 5 },
    auction: { bidders: 3, bidTimeoutMs: 500, leaseMs: 5000, heartbeatMs: 1000, maxAttempts: 3, agingMs: 60_000 },
  }
}
