/**
 * Sandbox runs by outcome and limit hit: the worker pool as the task service sees it, with
 * every `runSandboxed` counted when it settles (exec tasks and build steps alike). The pool
 * itself stays free of metrics; everything else is passed through unchanged.
 */
import { Counter, type Registry } from 'prom-client'
import type { WorkerPool } from '../../workers/index.js'

export type SandboxOutcome = 'succeeded' | 'nonzero_exit' | 'timed_out' | 'limit' | 'error'

export function instrumentSandboxRuns (pool: WorkerPool, registry: Registry): WorkerPool {
  const runs = new Counter({
    name: 'gryphgen_sandbox_runs_total',
    help: 'Sandbox runs on this node, by outcome (succeeded, nonzero_exit, timed_out, limit, error) and limit hit (none, wall, cpu, memory, pids, fsize, ...)',
    labelNames: ['outcome', 'limit'],
    registers: [registry],
  })
  return {
    start: async options => pool.start(options),
    submit: async (kind, task, options) => pool.submit(kind, task, options),
    stats: () => pool.stats(),
    workers: () => pool.workers(),
    stop: async options => pool.stop(options),
    runSandboxed: async (spec, options) => {
      try {
        const result = await pool.runSandboxed(spec, options)
        const outcome: SandboxOutcome = result.timedOut ? 'timed_out' : result.limitHit !== null ? 'limit' : result.exitCode === 0 ? 'succeeded' : 'nonzero_exit'
        runs.inc({ outcome, limit: result.limitHit ?? 'none' })
        return result
      } catch (err) {
        runs.inc({ outcome: 'error', limit: 'none' })
        throw err
      }
    },
  }
}
