/**
 * Starts the launcher and watches one run: captures stdout/stderr up to the output limit,
 * reads bubblewrap's status (the host pid of the sandbox's pid 1), feeds the tar stream of
 * produced files to the collector, samples the cgroup and ends the run on the first limit hit,
 * the wall-clock limit or an abort. Ending a run kills the sandbox's pid 1, which takes the
 * whole pid namespace with it and lets bubblewrap reap it; the launcher's process group is
 * killed as well if bubblewrap has not gone within half a second.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import type { CgroupSample, TaskCgroup } from './cgroup.js'
import type { FileCollector } from './collect.js'
import { limitInSample, type LimitHit } from './outcome.js'
import { openFdsFrom } from './procfs.js'
import type { SandboxLimits } from './spec.js'

export const STDIO = Object.freeze({ collect: 3, status: 4, firstExtra: 5 })
const POLL_MS = 100
const FALLBACK_KILL_MS = 500
const CLOSE_GRACE_MS = 2000

export interface SuperviseInput {
  shell: string
  script: string
  args: readonly string[]
  owner: { uid: number, gid: number } | null
  /** fds for STDIO.firstExtra onwards. */
  extraFds: readonly number[]
  /** An fd open on /dev/null, put in place of every other fd the child could inherit. */
  devNullFd: number
  stdin: string | null
  limits: SandboxLimits
  cgroup: TaskCgroup | null
  collector: FileCollector | null
  signal?: AbortSignal
  /** Each chunk of output as it arrives (the whole output is still returned at the end). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void
  /** Where the stdin goes, when not the child's fd 0 (a warm sandbox's stdin channel). */
  stdinStream?: Writable | null
}

export interface Supervised {
  code: number | null
  signal: NodeJS.Signals | null
  killedFor: LimitHit | 'abort' | null
  /** Whether bubblewrap got as far as starting the sandbox's pid 1. */
  started: boolean
  stdout: Buffer
  stderr: Buffer
  stdoutTruncated: boolean
  stderrTruncated: boolean
  sample: CgroupSample | null
  wallMs: number
}

class Capture {
  readonly parts: Buffer[] = []
  bytes = 0
  truncated = false
  constructor (readonly limit: number) {}
  /** Keeps what fits; false once the limit is exceeded. */
  add (chunk: Buffer): boolean {
    const room = this.limit - this.bytes
    if (chunk.length > room) {
      if (room > 0) this.parts.push(chunk.subarray(0, room))
      this.bytes = this.limit
      this.truncated = true
      return false
    }
    this.parts.push(chunk)
    this.bytes += chunk.length
    return true
  }
}

const tryKill = (pid: number): void => {
  try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
}

/** What starting the launcher needs; the rest of SuperviseInput is only needed once the run is watched. */
export type LaunchInput = Pick<SuperviseInput, 'shell' | 'script' | 'args' | 'owner' | 'extraFds' | 'devNullFd'> & {
  /** Whether the child's stdin and collect fd are pipes (a warm sandbox always has both). */
  stdinPipe: boolean
  collectPipe: boolean
  /** Pipes from STDIO.firstExtra on, before the extra fds (a warm sandbox's stdin channel: sh only knows fds 0-9). */
  extraPipes?: number
}

/** A started launcher: the sandbox's pid 1 becomes known from bubblewrap's status, the exit is tracked. */
export interface Launched {
  readonly child: ChildProcess
  /** The host pid of the sandbox's pid 1, once bubblewrap has reported it. */
  childPid: () => number | null
  onChildPid: (listener: (pid: number) => void) => void
  exited: () => boolean
  /** performance.now() when the launch began. */
  readonly startedAt: number
}

/** Spawns the launcher (sh -c SCRIPT) with the sandbox's fds; every other fd the node holds is masked. */
export function launch (input: LaunchInput): Launched {
  const stdio: StdioOptions = [
    input.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe',
    input.collectPipe ? 'pipe' : 'ignore', 'pipe',
    ...Array.from({ length: input.extraPipes ?? 0 }, () => 'pipe' as const), ...input.extraFds,
  ]
  for (const fd of openFdsFrom(stdio.length)) {
    while (stdio.length < fd) stdio.push('ignore')
    stdio.push(input.devNullFd)
  }
  const startedAt = performance.now()
  const child = spawn(input.shell, ['-c', input.script, 'sh', ...input.args], {
    detached: true,
    cwd: '/',
    env: { PATH: '/usr/bin:/bin' },
    stdio,
    ...(input.owner ?? {}),
  })
  let pid: number | null = null
  let exited = false
  const listeners: Array<(pid: number) => void> = []
  child.once('exit', () => { exited = true })
  child.once('error', () => { exited = true })
  readStatus(child.stdio[STDIO.status] as Readable | null, found => {
    pid = found
    for (const listener of listeners) listener(found)
  })
  return {
    child,
    startedAt,
    childPid: () => pid,
    onChildPid: listener => { listeners.push(listener) },
    exited: () => exited,
  }
}

export async function supervise (input: SuperviseInput): Promise<Supervised> {
  const launched = launch({ ...input, stdinPipe: input.stdin !== null, collectPipe: input.collector !== null })
  return await watch(launched, input, launched.startedAt)
}

/**
 * Watches a launched sandbox until it ends (see the header); `startedAt` is when the run began
 * (a warm sandbox's run begins when its request is sent, long after the launch).
 */
export async function watch (launched: Launched, input: Omit<SuperviseInput, keyof LaunchInput>, startedAt: number): Promise<Supervised> {
  const { child } = launched
  const out = new Capture(input.limits.outputBytes)
  const err = new Capture(input.limits.outputBytes)
  let killedFor: Supervised['killedFor'] = null
  let exited = launched.exited()
  let sample: CgroupSample | null = null
  const timers: NodeJS.Timeout[] = []

  const killGroup = (): void => { if (!exited && child.pid !== undefined) tryKill(-child.pid) }
  // Killing the sandbox's pid 1 lets bubblewrap reap it; killing bubblewrap first would hand
  // pid 1 to the host's init as a zombie. Until its pid is known (a few ms after the start)
  // the kill waits for it; the process group goes too if bubblewrap has not exited in time.
  const kill = (reason: LimitHit | 'abort'): void => {
    if (killedFor !== null || exited) return
    killedFor = reason
    const pid = launched.childPid()
    if (pid !== null) tryKill(pid)
    timers.push(setTimeout(killGroup, FALLBACK_KILL_MS))
  }
  launched.onChildPid(pid => { if (killedFor !== null && !exited) tryKill(pid) })

  child.stdout?.on('data', (chunk: Buffer) => { input.onOutput?.('stdout', chunk); if (!out.add(chunk)) kill('output') })
  child.stderr?.on('data', (chunk: Buffer) => { input.onOutput?.('stderr', chunk); if (!err.add(chunk)) kill('output') })
  const tar = child.stdio[STDIO.collect] as Readable | null
  if (input.collector !== null) {
    tar?.on('data', (chunk: Buffer) => input.collector?.write(chunk))
    tar?.on('end', () => input.collector?.end())
  }
  tar?.resume() // a warm sandbox's was paused after its ready byte
  const stdin = input.stdinStream === undefined ? child.stdin : input.stdinStream
  if (stdin !== null) {
    stdin.on('error', () => { /* the command need not read its stdin */ })
    stdin.end(input.stdin ?? '')
  }

  timers.push(setTimeout(() => kill('wall'), input.limits.wallMs))
  const cgroup = input.cgroup
  if (cgroup !== null) {
    let sampling = false
    timers.push(setInterval(() => {
      if (sampling || exited) return
      sampling = true
      cgroup.sample().then(s => {
        sample = s
        const hit = limitInSample(s, input.limits)
        if (hit !== null) kill(hit)
      }, () => {}).finally(() => { sampling = false })
    }, POLL_MS))
  }
  const onAbort = (): void => kill('abort')
  input.signal?.addEventListener('abort', onAbort, { once: true })
  if (input.signal?.aborted === true) kill('abort')

  try {
    const { code, signal } = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve, reject) => {
      const onExit = (): void => {
        exited = true
        // Everything in the sandbox is gone with its pid 1; a stream still open is not ours to wait for.
        timers.push(setTimeout(() => { for (const stream of child.stdio) stream?.destroy() }, CLOSE_GRACE_MS))
      }
      if (child.exitCode !== null || child.signalCode !== null) onExit()
      else child.once('exit', onExit)
      child.once('error', reject)
      child.once('close', (code, signal) => { resolve({ code, signal }) })
    })
    if (cgroup !== null) sample = await cgroup.sample().catch(() => sample)
    return {
      code,
      signal,
      killedFor,
      started: launched.childPid() !== null,
      stdout: Buffer.concat(out.parts),
      stderr: Buffer.concat(err.parts),
      stdoutTruncated: out.truncated,
      stderrTruncated: err.truncated,
      sample,
      wallMs: performance.now() - startedAt,
    }
  } finally {
    for (const timer of timers) clearTimeout(timer)
    input.signal?.removeEventListener('abort', onAbort)
  }
}

/** bubblewrap writes JSON documents, one per line; the first carries "child-pid". */
function readStatus (stream: Readable | null, onChildPid: (pid: number) => void): void {
  let pending = ''
  stream?.setEncoding('utf8')
  stream?.on('data', (text: string) => {
    pending += text
    let newline
    while ((newline = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, newline)
      pending = pending.slice(newline + 1)
      try {
        const status = JSON.parse(line) as { 'child-pid'?: unknown }
        if (typeof status['child-pid'] === 'number') onChildPid(status['child-pid'])
      } catch { /* not a status line */ }
    }
  })
}
