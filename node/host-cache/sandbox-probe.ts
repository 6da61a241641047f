/**
 * The sandbox probe, cached per host: the probe proves bubblewrap with a real sandboxed run and
 * then starts each runtime inside (sh, python3, pytest, node, tsc: over a second of CPU), which
 * a warm start need not repeat. The cache key adds the bubblewrap binary's identity, the node's
 * uid and /usr/bin's mtime (a package installed or removed) to the host key; a reboot, kernel
 * or version change re-probes. A cached finding is re-checked in the background `recheckMs`
 * after start (a runtime may have come or gone meanwhile); a change is handed to `onChange`
 * and stored. A node that lives shorter than that (tests) never pays for the re-check.
 */
import { stat } from 'node:fs/promises'
import Type from 'typebox'
import type { Logger } from '../../base/index.js'
import { createSandbox, probeSandbox, type SandboxProbe } from '../../sandbox/index.js'
import { hostKey, readCached, writeCached } from './store.js'

const BWRAP_PATHS = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap']
const WATCHED_DIRS = ['/usr/bin', '/usr/local/bin']
/** Default delay of the background re-check of a cached probe. */
export const SANDBOX_RECHECK_MS = 60_000

const SandboxProbeSchema = Type.Object({
  available: Type.Boolean(),
  isolation: Type.Literal('bubblewrap'),
  limits: Type.Union([Type.Literal('cgroup2'), Type.Literal('cgroup1'), Type.Literal('rlimit')]),
  runtimes: Type.Array(Type.String()),
  uidPerRun: Type.Boolean(),
  reason: Type.Optional(Type.String()),
})

// The schema must describe SandboxProbe exactly (a compile error otherwise).
const asProbe = (value: Type.Static<typeof SandboxProbeSchema>): SandboxProbe => value

export interface SandboxProbeCacheInit {
  dataDir: string
  version: string
  /** Runs the probe on a miss. Default: the process-wide probe (in-process meshes share it). */
  probe?: (options: { signal: AbortSignal, logger: Logger }) => Promise<SandboxProbe>
  /** Runs a fresh probe for the background re-check. Default: a new sandbox instance's (the process-wide one is memoized). */
  reprobe?: (options: { signal: AbortSignal, logger: Logger }) => Promise<SandboxProbe>
  /** A re-check found something else than the cached finding. */
  onChange: (probe: SandboxProbe) => void
  logger: Logger
  signal: AbortSignal
  recheckMs?: number
}

const identity = async (path: string): Promise<string> => {
  const st = await stat(path).catch(() => undefined)
  return st === undefined ? `${path}:-` : `${path}:${st.ino}:${st.size}:${st.mtimeMs}`
}

async function probeKey (version: string): Promise<string> {
  const files = await Promise.all([...BWRAP_PATHS, ...WATCHED_DIRS].map(identity))
  return await hostKey(version, [`uid:${process.getuid?.() ?? -1}`, ...files])
}

/** The sandbox's finding: cached (and re-checked later in the background) or probed now. */
export async function cachedSandboxProbe (init: SandboxProbeCacheInit): Promise<SandboxProbe> {
  const key = await probeKey(init.version)
  const cached = await readCached(init.dataDir, 'sandbox-probe', key, SandboxProbeSchema)
  if (cached === undefined) {
    const probe = await (init.probe ?? probeSandbox)({ signal: init.signal, logger: init.logger })
    await writeCached(init.dataDir, 'sandbox-probe', key, probe)
    return probe
  }
  const timer = setTimeout(() => { void recheck(init, asProbe(cached)) }, init.recheckMs ?? SANDBOX_RECHECK_MS)
  timer.unref()
  init.signal.addEventListener('abort', () => { clearTimeout(timer) }, { once: true })
  return asProbe(cached)
}

async function recheck (init: SandboxProbeCacheInit, cached: SandboxProbe): Promise<void> {
  try {
    const fresh = await (init.reprobe ?? (async o => await createSandbox().probe(o)))({ signal: init.signal, logger: init.logger })
    if (init.signal.aborted) return
    await writeCached(init.dataDir, 'sandbox-probe', await probeKey(init.version), fresh)
    if (JSON.stringify(fresh) !== JSON.stringify(cached)) init.onChange(fresh)
  } catch (err) {
    if (!init.signal.aborted) init.logger.warn({ err: (err as Error).message }, 'sandbox re-check failed; keeping the cached finding')
  }
}
