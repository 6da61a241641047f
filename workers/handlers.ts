/**
 * Task handlers, in a registry per worker kind keyed by task type. A handler gets the task's
 * input (untrusted JSON: it validates it) and a context with the cancel signal and ways to
 * report progress and log lines; it resolves with a JSON value or rejects with a typed error.
 *
 * - exec: `sandbox` (input: a SandboxSpec; runs it with runSandboxed, cancel kills the sandbox)
 *   and `echo` (returns its input: for health checks, tests and benchmarks).
 * - model: none yet (every task is answered with UnsupportedTaskError).
 * More handlers come from modules named at start (`--handlers`), each exporting `handlers`.
 */
import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Logger } from '../node/logger.js'
import { runSandboxed, type SandboxSpec } from '../sandbox/index.js'
import { EXEC_TASK_TYPES, type TaskLogLine, type TaskProgress, type WorkerKind } from '../protocols/worker.js'
import { WorkerPoolConfigError } from './errors.js'

export interface TaskContext {
  /** Aborted when the broker cancels the task or the worker stops: stop and clean up. */
  signal: AbortSignal
  progress: (progress: TaskProgress) => void
  log: (level: TaskLogLine['level'], message: string) => void
  logger: Logger
}

export type TaskHandler = (input: unknown, context: TaskContext) => Promise<unknown>
export type HandlerRegistry = ReadonlyMap<string, TaskHandler>

const TASK_TYPE = /^[a-z][a-z0-9._-]{0,63}$/

export const runSandboxTask: TaskHandler = async (input, context) =>
  await runSandboxed(input as SandboxSpec, { signal: context.signal, logger: context.logger })

export const echoTask: TaskHandler = async input => input

export function builtinHandlers (kind: WorkerKind): Map<string, TaskHandler> {
  switch (kind) {
    case 'exec': return new Map([[EXEC_TASK_TYPES.sandbox, runSandboxTask], [EXEC_TASK_TYPES.echo, echoTask]])
    case 'model': return new Map()
    default: return kind satisfies never
  }
}

/** The kind's built-in handlers plus `extra`; an extra handler may not replace a built-in one. */
export function handlerRegistry (kind: WorkerKind, extra: Record<string, TaskHandler> = {}): HandlerRegistry {
  const registry = builtinHandlers(kind)
  const problems: string[] = []
  for (const [type, handler] of Object.entries(extra)) {
    if (!TASK_TYPE.test(type)) problems.push(`task type '${type}' must match ${TASK_TYPE.source}`)
    else if (registry.has(type)) problems.push(`task type '${type}' is built into the ${kind} kind`)
    else if (typeof handler !== 'function') problems.push(`handler for '${type}' is not a function`)
    else registry.set(type, handler)
  }
  if (problems.length > 0) throw new WorkerPoolConfigError(`invalid task handlers: ${problems.join('; ')}`, { details: problems })
  return registry
}

/** Imports handler modules (absolute paths or file: URLs); each must export `handlers`. */
export async function loadHandlerModules (modules: readonly string[]): Promise<Record<string, TaskHandler>> {
  const merged: Record<string, TaskHandler> = {}
  for (const module of modules) {
    if (!isAbsolute(module) && !module.startsWith('file:')) throw new WorkerPoolConfigError(`handler module ${module} must be an absolute path`, { details: [module] })
    const loaded = await import(module.startsWith('file:') ? module : pathToFileURL(module).href) as { handlers?: unknown }
    if (typeof loaded.handlers !== 'object' || loaded.handlers === null) throw new WorkerPoolConfigError(`handler module ${module} exports no \`handlers\` object`, { details: [module] })
    Object.assign(merged, loaded.handlers)
  }
  return merged
}
