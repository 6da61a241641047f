/**
 * Warm sandboxes: the slow part of a run's start (the launcher's fork from the node, bubblewrap's
 * namespaces and mounts, tini) done ahead, off the run's critical path. A warm sandbox is a
 * complete sandbox of the default profile, with its own uid and cgroup, whose command is a shell
 * waiting for a request (warm-script.ts); a run that fits it is sent as that request, and only
 * the command's own exec and exit remain on the critical path. Each warm sandbox serves one run
 * and is then torn down like any run (cgroup removed, uid released); the pool starts the next
 * one after the run. Specs that do not fit (other limits, large files) run cold (run.ts).
 *
 * Only with a cgroup backend: the run's limits are written to the group when it is taken, and
 * its CPU and OOM/pids counters are read against the values at that moment. The peak memory
 * (cgroup v2) includes the set-up's few MiB. A warm sandbox whose node dies reads end-of-file
 * and exits by itself; its group is then swept as stale by the next start. Three failed warm
 * starts in a row switch the pool off (every run is then cold).
 */
import { existsSync } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import type { Logger } from '../base/index.js'
import { type CgroupSample, type TaskCgroup, TASK_GROUP_PREFIX } from './cgroup.js'
import type { SandboxHost } from './host.js'
import { prepareInputs, type PreparedInputs } from './inputs.js'
import { claimUid, collectorFor, launchArgs, releaseUid, resultOf, type RunOptions, type SandboxResult } from './run.js'
import { DEFAULT_ENV, DEFAULT_LIMITS, type ValidatedSpec } from './spec.js'
import { launch, STDIO, watch, type Launched } from './supervise.js'
import { requestScript, warmFits, warmStub, type RequestFds } from './warm-script.js'

const ENV_CANDIDATES = ['/usr/bin/env', '/bin/env']
const MAX_FAILURES = 3
const DISPOSE_GRACE_MS = 2000

interface Warm {
  readonly launched: Launched
  readonly uid: number | null
  readonly cgroup: TaskCgroup
  readonly fds: RequestFds
  /** True once the shell inside waits for its request; false if the sandbox ended first. */
  readonly ready: Promise<boolean>
}

export interface WarmPool {
  /** Runs `spec` in a warm sandbox, or returns null (nothing started) when none fits or is free. */
  run: (spec: ValidatedSpec, options: RunOptions) => Promise<SandboxResult> | null
  /** Resolves once every warm sandbox the pool keeps is ready (or the pool gave up). */
  prepared: () => Promise<void>
  /** Starts warm sandboxes up to the pool's size again (after a cold run released its uid). */
  refill: () => void
  /** Ends the idle warm sandboxes and stops starting new ones. */
  close: () => Promise<void>
}

let warmCounter = 0

const minus = (sample: CgroupSample, base: CgroupSample): CgroupSample => ({
  cpuMs: Math.max(0, sample.cpuMs - base.cpuMs),
  peakMemoryBytes: sample.peakMemoryBytes,
  oomKills: sample.oomKills - base.oomKills,
  pidsLimitHits: sample.pidsLimitHits - base.pidsLimitHits,
})

/** Whether the sandbox's process and pipes keep the event loop (and so the node's process) alive. */
function holdOpen ({ child }: Launched, hold: boolean): void {
  if (hold) child.ref()
  else child.unref()
  for (const stream of child.stdio) {
    const handle = stream as { ref?: () => void, unref?: () => void } | null
    if (hold) handle?.ref?.()
    else handle?.unref?.()
  }
}

/** A pool keeping `size` warm sandboxes, or null where warm sandboxes cannot be used. */
export function warmPool (host: SandboxHost, size: number, logger: Logger): WarmPool | null {
  const env = ENV_CANDIDATES.find(path => existsSync(path))
  const backend = host.cgroup
  if (size <= 0 || !host.available || backend === null || env === undefined) return null
  const idle: Warm[] = []
  const starting = new Set<Promise<unknown>>()
  let failures = 0
  let uidsBusy = false
  let closed = false

  const dispose = async (warm: Warm): Promise<void> => {
    const { child } = warm.launched
    if (!warm.launched.exited()) {
      child.stdin?.end() // end of file: the waiting shell exits, and the sandbox with it
      const done = new Promise(resolve => child.once('close', resolve))
      const timer = setTimeout(() => {
        if (child.pid !== undefined) try { process.kill(-child.pid, 'SIGKILL') } catch { /* gone */ }
      }, DISPOSE_GRACE_MS)
      await done
      clearTimeout(timer)
    }
    if (!await warm.cgroup.remove()) logger.warn('warm sandbox cgroup could not be removed')
    releaseUid(host, warm.uid)
  }

  const start = async (): Promise<Warm> => {
    const uid = claimUid(host)
    const owner = uid === null ? null : { uid, gid: uid }
    let cgroup: TaskCgroup | null = null
    let inputs: PreparedInputs | null = null
    const fds = { stdin: STDIO.firstExtra, collect: STDIO.collect }
    try {
      inputs = await prepareInputs(host, [], fds.stdin + 1)
      cgroup = await backend.create(`${TASK_GROUP_PREFIX}${process.pid}-w${++warmCounter}`, DEFAULT_LIMITS, host.tools.setpriv === null ? owner : null)
      const launcher = await launchArgs(host, {
        files: [], env: DEFAULT_ENV, limits: DEFAULT_LIMITS, command: warmStub(host.tools.shell, fds), collecting: false, uid, inputs, cgroup,
      })
      const launched = launch({ ...launcher, extraFds: inputs.extraFds, devNullFd: inputs.devNullFd, stdinPipe: true, collectPipe: true, extraPipes: 1 })
      const collect = launched.child.stdio[STDIO.collect] as Readable
      const ready = new Promise<boolean>(resolve => {
        collect.once('data', () => { collect.pause(); resolve(true) })
        launched.child.once('exit', () => { resolve(false) })
      })
      return { launched, uid, cgroup, fds, ready }
    } catch (err) {
      if (cgroup !== null) await cgroup.remove()
      releaseUid(host, uid)
      throw err
    } finally {
      inputs?.close()
    }
  }

  const fill = (): void => {
    while (!closed && failures < MAX_FAILURES && idle.length + starting.size < size) {
      // Every uid in use is no failure: runs hold them, and the pool fills again after the next run.
      const starting1: Promise<unknown> = start().then(async warm => {
        if (closed || !await warm.ready) {
          if (!closed) failures++
          await dispose(warm)
          return
        }
        failures = 0
        uidsBusy = false
        holdOpen(warm.launched, false) // an idle warm sandbox never keeps the node's process alive
        idle.push(warm)
      }).catch((err: unknown) => {
        uidsBusy = (err as Error).name === 'SandboxBusyError'
        if (!uidsBusy) failures++
        logger.debug({ err }, 'warm sandbox did not start')
      }).finally(() => {
        starting.delete(starting1)
        if (failures >= MAX_FAILURES) logger.warn('warm sandboxes keep failing: every run starts cold')
        if (!uidsBusy) setImmediate(fill)
      })
      starting.add(starting1)
    }
  }

  const runWarm = async (warm: Warm, spec: ValidatedSpec, options: RunOptions): Promise<SandboxResult> => {
    const collector = collectorFor(spec)
    const runLogger = options.logger.child({ run: 'warm', uid: warm.uid })
    try {
      warm.cgroup.setLimits(spec.limits)
      warm.cgroup.resetPeak()
      const base = await warm.cgroup.sample()
      holdOpen(warm.launched, true)
      const startedAt = performance.now()
      warm.launched.child.stdin?.end(requestScript({ spec, fds: warm.fds, env, tar: host.tools.tar }))
      const run = await watch(warm.launched, {
        stdin: spec.stdin,
        stdinStream: warm.launched.child.stdio[warm.fds.stdin] as Writable,
        limits: spec.limits,
        cgroup: { ...warm.cgroup, sample: async () => minus(await warm.cgroup.sample(), base) },
        collector,
        signal: options.signal,
        onOutput: options.onOutput,
      }, startedAt)
      return resultOf(run, spec, collector, runLogger)
    } finally {
      await dispose(warm)
      uidsBusy = false
      setImmediate(fill)
    }
  }

  fill()
  return {
    run: (spec, options) => {
      if (closed || options.signal?.aborted === true || !warmFits(spec, DEFAULT_LIMITS)) return null
      let warm: Warm | undefined
      while ((warm = idle.shift()) !== undefined && warm.launched.exited()) void dispose(warm)
      if (warm === undefined) return null
      return runWarm(warm, spec, options)
    },
    refill: () => {
      uidsBusy = false
      fill()
    },
    prepared: async () => {
      while (!closed && failures < MAX_FAILURES && (starting.size > 0 || idle.length < size)) {
        if (starting.size === 0) fill()
        if (starting.size === 0) return
        await Promise.race(starting)
        if (uidsBusy) return // no uid free now: runs start cold until one ends
      }
    },
    close: async () => {
      closed = true
      await Promise.allSettled([...starting])
      await Promise.all(idle.splice(0).map(dispose))
    },
  }
}
