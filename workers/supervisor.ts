/**
 * Spawns and supervises the pool's worker processes. Each child gets its token and id as one
 * JSON line on an inherited pipe (fd 3), never in argv or its environment; the pipe stays
 * open, and its end-of-file tells the child that the node is gone (a node killed with -9
 * leaves no workers behind). A child that exits is replaced: at once when it had joined,
 * with exponential back-off while children keep failing before they join. A child that does
 * not join within `startTimeoutMs` is killed. stop() closes the pipes, waits `graceMs` for
 * the children to end their tasks and exit, then kills the rest and waits for their exit.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Writable } from 'node:stream'
import type { Logger } from '../base/index.js'
import { WORKER_KINDS, type WorkerKind } from '../protocols/index.js'
import type { KindPlan } from './options.js'
import { forwardWorkerOutput } from './output.js'
import { preferBundle } from './entry.js'

export interface SupervisorInit {
  endpoint: string
  token: string
  logger: Logger
  plans: Readonly<Record<WorkerKind, KindPlan>>
  startTimeoutMs: number
  logLevel: string
  /** A child exited (or was killed); `joined` says whether it had said HELLO. */
  onExit: (workerId: string, kind: WorkerKind, joined: boolean) => void
}

export interface ChildInfo { workerId: string, kind: WorkerKind, pid: number, joined: boolean }

interface Child {
  workerId: string
  kind: WorkerKind
  process: ChildProcess
  joined: boolean
  startTimer: NodeJS.Timeout
  tail: string[]
  exited: Promise<void>
}

const BACKOFF_BASE_MS = 250
const BACKOFF_MAX_MS = 30_000

/** How to start worker-main: compiled JS directly, or the TypeScript source through tsx. */
/**
 * Per-kind environment of spawned workers. A model worker gets one libuv thread: node-llama-cpp
 * runs each token's decode on a libuv thread and llama.cpp starts its extra compute threads
 * from there; with libuv's default four rotating threads Linux often put two busy-waiting
 * compute threads on one core, and 2-thread generation on 2 cores ran ~35% below llama-bench
 * (37-46 vs 62-65 tokens/s); with one, it matches it (61-66). Cost: the process's other libuv
 * work (file I/O, a model load) waits behind a decode. See docs/MODELS.md.
 */
const KIND_ENV: Record<WorkerKind, Record<string, string>> = { exec: {}, model: { UV_THREADPOOL_SIZE: '1' } }

export function workerCommand (): { execPath: string, args: string[] } {
  const own = import.meta.url
  if (own.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(own).resolve('tsx')).href
    return { execPath: process.execPath, args: ['--import', tsx, fileURLToPath(new URL('./worker-main.ts', own))] }
  }
  return { execPath: process.execPath, args: [fileURLToPath(preferBundle(new URL('./worker-main.js', own), new URL('../bundle/worker-main.js', own), new URL('../.tsbuildinfo', own)))] }
}

export class WorkerSupervisor {
  readonly #init: SupervisorInit
  readonly #children = new Map<string, Child>()
  readonly #failures = new Map<WorkerKind, number>()
  readonly #restartTimers = new Set<NodeJS.Timeout>()
  readonly restarts: Record<WorkerKind, number> = { exec: 0, model: 0 }
  /** The last failure before joining, for start-up error reports. */
  lastFailure: string | undefined
  #stopping = false

  constructor (init: SupervisorInit) {
    this.#init = init
  }

  start (): void {
    for (const kind of WORKER_KINDS) {
      for (let i = 0; i < this.#init.plans[kind].size; i++) this.#spawn(kind)
    }
  }

  children (): ChildInfo[] {
    return [...this.#children.values()].map(c => ({ workerId: c.workerId, kind: c.kind, pid: c.process.pid ?? 0, joined: c.joined }))
  }

  /** Marks a spawned child as joined; false unless it is ours, of that kind and pid, and new. */
  claim (workerId: string, kind: WorkerKind, pid: number): boolean {
    const child = this.#children.get(workerId)
    if (child === undefined || child.joined || child.kind !== kind || child.process.pid !== pid) return false
    child.joined = true
    clearTimeout(child.startTimer)
    this.#failures.set(kind, 0)
    return true
  }

  kill (workerId: string): void {
    this.#children.get(workerId)?.process.kill('SIGKILL')
  }

  /** No more replacements (the pool is draining). */
  stopRestarting (): void {
    this.#stopping = true
    for (const timer of this.#restartTimers) clearTimeout(timer)
    this.#restartTimers.clear()
  }

  async stop (graceMs: number): Promise<void> {
    this.stopRestarting()
    const children = [...this.#children.values()]
    for (const child of children) (child.process.stdio[3] as Writable | null)?.end()
    let timer: NodeJS.Timeout | undefined
    const all = Promise.all(children.map(async c => await c.exited))
    await Promise.race([all, new Promise(resolve => { timer = setTimeout(resolve, graceMs) })])
    clearTimeout(timer)
    for (const child of this.#children.values()) child.process.kill('SIGKILL')
    await all
  }

  #spawn (kind: WorkerKind): void {
    if (this.#stopping) return
    const plan = this.#init.plans[kind]
    const workerId = `${kind}-${randomBytes(6).toString('hex')}`
    const command = workerCommand()
    const args = [
      ...command.args, '--connect', this.#init.endpoint, '--kind', kind, '--slots', String(plan.slots),
      '--control-fd', '3', '--log-level', this.#init.logLevel, ...plan.nice > 0 ? ['--nice', String(plan.nice)] : [], ...plan.handlerModules.flatMap(m => ['--handlers', m]),
    ]
    const log = this.#init.logger.child({ worker: workerId })
    const child = spawn(command.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { ...process.env, ...KIND_ENV[kind] } })
    const tail: string[] = []
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
    const record: Child = {
      workerId, kind, process: child, joined: false, tail, exited,
      startTimer: setTimeout(() => {
        log.error({ timeoutMs: this.#init.startTimeoutMs }, 'worker did not join in time; killing it')
        child.kill('SIGKILL')
      }, this.#init.startTimeoutMs),
    }
    this.#children.set(workerId, record)
    if (child.stdout !== null) forwardWorkerOutput(child.stdout, log, tail)
    if (child.stderr !== null) forwardWorkerOutput(child.stderr, log, tail)
    const control = child.stdio[3] as Writable | null
    control?.on('error', () => { /* the child is gone; its exit is handled below */ })
    control?.write(JSON.stringify({ token: this.#init.token, workerId }) + '\n')
    child.once('error', err => log.error({ err }, 'worker process failed to start'))
    child.once('exit', (code, signal) => this.#exited(record, code, signal))
    log.debug({ pid: child.pid, kind }, 'worker process spawned')
  }

  #exited (child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(child.startTimer)
    this.#children.delete(child.workerId)
    ;(child.process.stdio[3] as Writable | null)?.destroy()
    const log = this.#init.logger.child({ worker: child.workerId })
    if (!child.joined) {
      this.#failures.set(child.kind, (this.#failures.get(child.kind) ?? 0) + 1)
      this.lastFailure = `worker ${child.workerId} exited before joining (code ${code}, signal ${signal}): ${child.tail.slice(-5).join(' | ')}`
    }
    if (!this.#stopping) log.warn({ code, signal, joined: child.joined }, 'worker process exited')
    this.#init.onExit(child.workerId, child.kind, child.joined)
    if (this.#stopping) return
    const failures = this.#failures.get(child.kind) ?? 0
    const delay = failures === 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1))
    this.restarts[child.kind]++
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer)
      this.#spawn(child.kind)
    }, delay)
    this.#restartTimers.add(timer)
  }
}
