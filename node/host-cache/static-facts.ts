/**
 * The hardware facts a node advertises (CPU, OS, GPUs), measured once per host: systeminformation
 * spawns tools for them (lspci, hostname, locale and others: about a second of CPU), so a warm
 * start reads them from the host cache instead. Memory, load and disk are measured live.
 */
import { availableParallelism, totalmem } from 'node:os'
import Type from 'typebox'
import { probeStatic, type StaticFacts } from '../capabilities/probe.js'
import { hostKey, readCached, writeCached } from './store.js'

const StaticFactsSchema = Type.Object({
  cpu: Type.Object({ model: Type.String(), cores: Type.Integer({ minimum: 1 }), physicalCores: Type.Integer({ minimum: 1 }), speedGHz: Type.Number({ minimum: 0 }), arch: Type.String() }),
  os: Type.Object({ platform: Type.String(), distro: Type.String(), release: Type.String() }),
  memoryTotalMb: Type.Integer({ minimum: 0 }),
  gpus: Type.Array(Type.Object({ vendor: Type.String(), model: Type.String(), vramMb: Type.Integer({ minimum: 0 }) })),
})

// The schema must describe StaticFacts exactly (a compile error otherwise).
const asFacts = (value: Type.Static<typeof StaticFactsSchema>): StaticFacts => value

export interface StaticFactsInit {
  dataDir: string
  version: string
  /** Measures the facts on a miss. Default: probeStatic (systeminformation). */
  measure?: () => Promise<StaticFacts>
}

/** The host's static facts: cached ones when this host (boot, kernel, versions) measured them before. */
export async function cachedStaticFacts (init: StaticFactsInit): Promise<StaticFacts> {
  const key = await hostKey(init.version, [`cores:${availableParallelism()}`, `memory:${totalmem()}`])
  const cached = await readCached(init.dataDir, 'host-facts', key, StaticFactsSchema)
  if (cached !== undefined) return asFacts(cached)
  const facts = await (init.measure ?? probeStatic)()
  await writeCached(init.dataDir, 'host-facts', key, facts)
  return facts
}
