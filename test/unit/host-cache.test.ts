/**
 * The host cache (node/host-cache): a warm start reads the hardware facts and the sandbox
 * finding instead of measuring them again; another key, a damaged file or a re-check that
 * finds something else measures again. Real files in a temporary data dir; the measurements
 * themselves are counted stand-ins (the real probes run in the node and process tests).
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { CACHE_DIR, cachedSandboxProbe, cachedStaticFacts } from '../../node/host-cache/index.js'
import type { StaticFacts } from '../../node/capabilities/probe.js'
import type { SandboxProbe } from '../../sandbox/index.js'
import { silentLogger } from '../../base/index.js'
import { waitFor } from '../helpers/nodes.js'

const FACTS: StaticFacts = {
  cpu: { model: 'Test CPU', cores: 2, physicalCores: 2, speedGHz: 2.5, arch: 'x64' },
  os: { platform: 'linux', distro: 'Debian', release: '12' },
  memoryTotalMb: 24_000,
  gpus: [],
}
const PROBE: SandboxProbe = { available: true, isolation: 'bubblewrap', limits: 'cgroup2', runtimes: ['sh', 'python3'], uidPerRun: true }

let dataDir: string
beforeEach(async () => { dataDir = await mkdtemp(join(tmpdir(), 'gryphgen-host-cache-')) })
afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

describe('static facts', () => {
  test('measured once per host, then read from the data dir', async () => {
    let measured = 0
    const measure = async (): Promise<StaticFacts> => { measured++; return FACTS }
    expect(await cachedStaticFacts({ dataDir, version: '1.0.0', measure })).toEqual(FACTS)
    expect(await cachedStaticFacts({ dataDir, version: '1.0.0', measure })).toEqual(FACTS)
    expect(measured).toBe(1)
    expect(await readdir(join(dataDir, CACHE_DIR))).toEqual(['host-facts.json'])
  })

  test('another version, a damaged file or a wrong shape measures again', async () => {
    let measured = 0
    const measure = async (): Promise<StaticFacts> => { measured++; return FACTS }
    await cachedStaticFacts({ dataDir, version: '1.0.0', measure })
    await cachedStaticFacts({ dataDir, version: '1.0.1', measure })
    expect(measured).toBe(2)
    const file = join(dataDir, CACHE_DIR, 'host-facts.json')
    await writeFile(file, '{"key": ')
    expect(await cachedStaticFacts({ dataDir, version: '1.0.1', measure })).toEqual(FACTS)
    expect(measured).toBe(3)
    const stored = JSON.parse(await readFile(file, 'utf8')) as { key: string, value: StaticFacts }
    await writeFile(file, JSON.stringify({ key: stored.key, value: { ...stored.value, cpu: { ...stored.value.cpu, cores: 'two' } } }))
    expect(await cachedStaticFacts({ dataDir, version: '1.0.1', measure })).toEqual(FACTS)
    expect(measured).toBe(4)
  })
})

describe('sandbox probe', () => {
  const init = (probes: { probe: number, reprobe: number }, reprobeResult: SandboxProbe, changes: SandboxProbe[], signal: AbortSignal, recheckMs = 60_000): Parameters<typeof cachedSandboxProbe>[0] => ({
    dataDir,
    version: '1.0.0',
    probe: async () => { probes.probe++; return PROBE },
    reprobe: async () => { probes.reprobe++; return reprobeResult },
    onChange: p => { changes.push(p) },
    logger: silentLogger(),
    signal,
    recheckMs,
  })

  test('a warm start takes the cached finding without probing', async () => {
    const probes = { probe: 0, reprobe: 0 }
    const stop = new AbortController()
    try {
      expect(await cachedSandboxProbe(init(probes, PROBE, [], stop.signal))).toEqual(PROBE)
      expect(await cachedSandboxProbe(init(probes, PROBE, [], stop.signal))).toEqual(PROBE)
      expect(probes).toEqual({ probe: 1, reprobe: 0 })
    } finally {
      stop.abort()
    }
  })

  test('the background re-check hands a changed finding on and stores it', async () => {
    const probes = { probe: 0, reprobe: 0 }
    const changed: SandboxProbe = { ...PROBE, runtimes: ['sh'] }
    const changes: SandboxProbe[] = []
    const stop = new AbortController()
    try {
      await cachedSandboxProbe(init(probes, changed, changes, stop.signal))
      expect(await cachedSandboxProbe(init(probes, changed, changes, stop.signal, 50))).toEqual(PROBE)
      await waitFor(() => changes.length === 1, 10_000)
      expect(changes[0]).toEqual(changed)
      // The next start takes the re-checked finding.
      expect(await cachedSandboxProbe(init(probes, changed, [], stop.signal))).toEqual(changed)
      expect(probes.probe).toBe(1)
    } finally {
      stop.abort()
    }
  })

  test('a node stopped before the re-check never runs it', async () => {
    const probes = { probe: 0, reprobe: 0 }
    const stop = new AbortController()
    await cachedSandboxProbe(init(probes, PROBE, [], stop.signal))
    await cachedSandboxProbe(init(probes, PROBE, [], stop.signal, 200))
    stop.abort()
    await new Promise(resolve => setTimeout(resolve, 600)) // past the re-check's time: it must not run
    expect(probes.reprobe).toBe(0)
  })
})
