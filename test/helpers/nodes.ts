/** Start real gryphgen nodes on loopback (port 0, mDNS off) in this process, and clean up. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveConfig } from '../../node/config/index.js'
import { GryphgenNode } from '../../node/node.js'
import { silentLogger } from '../../base/index.js'
import { writeSwarmKey, newSwarmKeyHex } from '../../node/datadir/index.js'

export interface TestNodeInit {
  swarmKey: string
  bootstrap?: string[]
  dataDir?: string
  labels?: string[]
  resources?: Record<string, unknown>
  baseIntervalMs?: number
  name?: string
  execWorkers?: number
  /** Model worker processes (default 0); their slots are `models.sequences`. */
  modelWorkers?: number
  models?: Record<string, unknown>
  auction?: Record<string, number>
  /** The config's `metrics` (e.g. `{ libp2p: true }`). */
  metrics?: Record<string, unknown>
  /** `blobs.*` config (maxMb, keepUnreferencedMs, gcIntervalMs). */
  blobs?: Record<string, number>
  /** `priority.*` config (taskNice, modelNice; 0 unless given). */
  priority?: Record<string, number>
}

const tempDirs: string[] = []

export async function tempDir (prefix = 'gryphgen-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

export async function removeTempDirs (): Promise<void> {
  await Promise.all(tempDirs.splice(0).map(async d => rm(d, { recursive: true, force: true })))
}

export { newSwarmKeyHex }

export async function startTestNode (init: TestNodeInit): Promise<GryphgenNode> {
  const dataDir = init.dataDir ?? await tempDir()
  await writeSwarmKey(dataDir, init.swarmKey)
  const config = resolveConfig({
    dataDir,
    file: {
      path: 'test',
      text: JSON.stringify({
        name: init.name ?? 'test-node',
        listen: ['/ip4/127.0.0.1/tcp/0'],
        apiHost: '127.0.0.1',
        apiPort: 0,
        mdns: false,
        bootstrap: init.bootstrap ?? [],
        labels: init.labels ?? [],
        resources: init.resources ?? {},
        logLevel: 'silent',
        advert: { baseIntervalMs: init.baseIntervalMs ?? 500, maxReceiveRate: 20 },
        // No worker processes unless a test asks: mesh tests start many nodes on 2 cores.
        workers: { exec: { size: init.execWorkers ?? 0 }, model: { size: init.modelWorkers ?? 0, slots: (init.models?.sequences as number | undefined) ?? 4 } },
        // One llama.cpp thread: test files run two at a time on 2 cores.
        models: { threads: 1, contextSize: 512, ...init.models },
        // Short leases so node-loss tests finish quickly; bids may take seconds on a busy machine
        // (an auction ends as soon as every asked node has answered).
        auction: { leaseMs: 2000, heartbeatMs: 300, bidTimeoutMs: 5000, ...init.auction },
        ...(init.metrics === undefined ? {} : { metrics: init.metrics }),
        ...(init.blobs === undefined ? {} : { blobs: init.blobs }),
        // Worker niceness 0 unless a test asks (see vitest.config.ts).
        priority: { taskNice: 0, modelNice: 0, ...init.priority },
      }),
    },
  })
  const node = new GryphgenNode({ config, logger: silentLogger() })
  await node.start()
  return node
}

/**
 * How long a test waits for a condition before it fails, at the least. Deadlines in tests are
 * safety nets, never assertions: a busy laptop or CI runner (cores shared with other work) must
 * still pass, and a condition that holds returns at once however long the deadline. Timing
 * targets are measured by the benchmarks (scripts/bench-*), not here.
 */
export const PATIENCE_MS = 60_000

/** Wait until `check` returns true, polling every `everyMs`; gives up after `timeoutMs` (never less than PATIENCE_MS). */
export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs = PATIENCE_MS, everyMs = 25): Promise<void> {
  timeoutMs = Math.max(timeoutMs, PATIENCE_MS)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  throw new Error(`condition not met within ${timeoutMs} ms`)
}

/** Nodes started through this tracker are stopped (and temp dirs removed) by `stopAll()`. */
export function nodeTracker (): { start: (init: TestNodeInit) => Promise<GryphgenNode>, stopAll: () => Promise<void> } {
  const running: GryphgenNode[] = []
  return {
    start: async (init) => {
      const n = await startTestNode(init)
      running.push(n)
      return n
    },
    stopAll: async () => {
      // Bounded: a node that does not stop fails the hook instead of hanging the run.
      const stopping = Promise.all(running.splice(0).map(async n => n.stop()))
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error('a test node did not stop within 60 s')), 60_000) })
      try {
        await Promise.race([stopping, timeout])
      } finally {
        clearTimeout(timer)
      }
      await removeTempDirs()
    },
  }
}
