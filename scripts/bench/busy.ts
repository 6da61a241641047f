/**
 * `--busy` for every bench:* script (issue 20, item 5): a standard CPU load beside the
 * measurement, so that the figures and their baselines are taken on busy cores, as a grid
 * node's usually are. One import line enables it: `import { busy } from './bench/busy.js'`.
 * At import, when the command line has `--busy`, the flag is removed from process.argv (the
 * bench's own parseArgs never sees it) and `stress-ng --cpu N` starts (N: every core), beside
 * everything the bench runs, its baselines included. A bench that runs a node adds the other
 * half of the standard load, sandboxed CPU-bound tasks through the node itself, one per core,
 * with `busy.fillNode(node)` (its node needs exec workers). While the load runs the 1-minute
 * load average is sampled every second; `busy.report()` (also printed at exit) gives it, so
 * each figure can be read with the load it was measured under. stress-ng is stopped by PID on
 * exit, whatever the bench does.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'

export interface BusyNode { url: string, token: string }

// Their CPU-time limit is raised with the wall-time one: at the sandbox's default (30 s of CPU) they
// ended after 1-2 minutes on busy cores, and a longer run lost that half of its load.
const CPU_TASK = { kind: 'exec', command: ['sh', '-c', 'while :; do :; done'], requirements: { cpus: 1, memoryMb: 64 }, limits: { timeoutMs: 3_600_000, cpuMs: 3_600_000 } }
const SAMPLE_MS = 1000

class BusyLoad {
  readonly cores = availableParallelism()
  readonly #loads: number[] = []
  #stress: ChildProcess | undefined
  #sampler: NodeJS.Timeout | undefined
  #fills: Array<() => Promise<void>> = []

  constructor (readonly enabled: boolean) {}

  start (): void {
    if (!this.enabled) return
    // Its own process group, stopped as a group at exit. The shell also watches this process:
    // if it dies without running its exit handler (SIGKILL), stress-ng is stopped within a second.
    const watch = `stress-ng --cpu ${this.cores} --timeout 3600s --quiet & s=$!; trap 'kill $s; exit' TERM; while kill -0 ${process.pid} 2>/dev/null && kill -0 $s 2>/dev/null; do sleep 1; done; kill $s 2>/dev/null`
    this.#stress = spawn('sh', ['-c', watch], { stdio: 'ignore', detached: true })
    this.#stress.unref() // the load never keeps the benchmark from exiting
    this.#stress.on('error', err => { process.stderr.write(`--busy: stress-ng did not start (${err.message}); install it (apt-get install stress-ng)\n`) })
    this.#sampler = setInterval(() => { this.#loads.push(loadavg()[0]) }, SAMPLE_MS)
    this.#sampler.unref()
    process.once('exit', () => { this.stopNow() })
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { this.stopNow(); process.exit(130) })
    process.stdout.write(`--busy: stress-ng --cpu ${this.cores} (process group ${this.#stress.pid ?? '?'}) runs beside this benchmark and its baselines\n`)
  }

  /**
   * Keeps one CPU-bound sandboxed task per core running through `node` until the returned
   * function (or `stopNow`) is called; does nothing without --busy. `labels`: the tasks require
   * them (to keep them off a node whose slots the benchmark needs).
   */
  async fillNode (node: BusyNode, count = this.cores, labels?: string[]): Promise<() => Promise<void>> {
    if (!this.enabled) return async () => {}
    const headers = { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' }
    const task = labels === undefined ? CPU_TASK : { ...CPU_TASK, requirements: { ...CPU_TASK.requirements, labels } }
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${node.url}/v1/tasks`, { method: 'POST', headers, body: JSON.stringify(task), signal: AbortSignal.timeout(30_000) })
      if (res.status !== 202) throw new Error(`--busy: POST /v1/tasks: HTTP ${res.status} ${await res.text()}`)
      ids.push((await res.json() as { id: string }).id)
    }
    const stop = async (): Promise<void> => {
      this.#fills = this.#fills.filter(f => f !== stop)
      await Promise.all(ids.map(async id => fetch(`${node.url}/v1/tasks/${id}`, { method: 'DELETE', headers: { authorization: headers.authorization }, signal: AbortSignal.timeout(30_000) }).catch(() => {})))
    }
    this.#fills.push(stop)
    process.stdout.write(`--busy: ${count} CPU-bound sandboxed tasks run through the node\n`)
    return stop
  }

  /** A point in the run: `report(mark)` covers what came after it. */
  mark (): number { return this.#loads.length }

  /** The load average while the load ran since `since` (or now, without --busy). */
  report (since = 0): string {
    const now = loadavg().map(x => x.toFixed(2)).join(' ')
    const loads = this.#loads.slice(since)
    if (loads.length === 0) return `load average now ${now}${this.enabled ? ' (--busy)' : ' (no --busy load)'}`
    const sorted = loads.sort((a, b) => a - b)
    const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length
    return `load average (1 min) during the run: mean ${mean.toFixed(2)}, min ${sorted[0].toFixed(2)}, max ${sorted[sorted.length - 1].toFixed(2)}; now ${now} (--busy: stress-ng --cpu ${this.cores}${this.#fills.length > 0 ? ' + sandboxed tasks' : ''})`
  }

  stopNow (): void {
    clearInterval(this.#sampler)
    if (this.#stress?.pid !== undefined && this.#stress.exitCode === null && this.#stress.signalCode === null) {
      try { process.kill(-this.#stress.pid, 'SIGTERM') } catch { /* gone */ }
      process.stdout.write(`${this.report()}\n`)
    }
    this.#stress = undefined
  }
}

const flagAt = process.argv.indexOf('--busy')
if (flagAt !== -1) process.argv.splice(flagAt, 1)

/** The process-wide load (started at import when --busy was given). */
export const busy = new BusyLoad(flagAt !== -1)
busy.start()
