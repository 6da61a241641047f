/**
 * Task handlers, in a registry per worker kind keyed by task type. A handler gets the task's
 * input (untrusted JSON: it validates it) and a context with the cancel signal and ways to
 * report progress and log lines; it resolves with a JSON value or rejects with a typed error.
 *
 * - exec: `sandbox` (input: a SandboxSpec; runs it with runSandboxed, cancel kills the sandbox)
 *   and `echo` (returns its input: for health checks, tests and benchmarks).
 * - model: `generate`, `embed` and `status` (protocols/model.ts) on one ModelHost per worker
 *   process (models/host), made on the first model task: node-llama-cpp is imported then, never
 *   in an exec worker. Generated text streams as `token` progress frames.
 * More handlers come from modules named at start (`--handlers`), each exporting `handlers`.
 */
import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Logger } from '../base/index.js'
import { runSandboxed, type SandboxSpec } from '../sandbox/index.js'
import { disposeModelTaskHost, modelTaskHandlers } from './model-handlers.js'
import { EXEC_TASK_TYPES, type TaskLogLine, type TaskProgress, type WorkerKind } from '../protocols/index.js'
import { WorkerPoolConfigError } from './errors.js'

export interface TaskContext {
  /** Aborted when the broker cancels the task or the worker stops: stop and clean up. */
  signal: AbortSignal
  progress: (progress: TaskProgress) => void
  /** A log line; `stream` marks a line of the command's own output. Dropped when the broker link is backed up. */
  log: (level: TaskLogLine['level'], message: string, stream?: 'stdout' | 'stderr') => void
  logger: Logger
}

export type TaskHandler = (input: unknown, context: TaskContext) => Promise<unknown>
export type HandlerRegistry = ReadonlyMap<string, TaskHandler>

const TASK_TYPE = /^[a-z][a-z0-9._-]{0,63}$/

/** Runs the spec in the sandbox; its output goes out line by line as it comes (live logs). */
export const runSandboxTask: TaskHandler = async (input, context) => {
  const lines = { stdout: new LineSplitter(), stderr: new LineSplitter() }
  const result = await runSandboxed(input as SandboxSpec, {
    signal: context.signal,
    logger: context.logger,
    onOutput: (stream, chunk) => { for (const line of lines[stream].push(chunk)) context.log('info', line, stream) },
  })
  for (const stream of ['stdout', 'stderr'] as const) for (const line of lines[stream].end()) context.log('info', line, stream)
  return result
}

/** Splits a byte stream into lines (UTF-8); a line longer than MAX_LINE is cut into pieces. */
class LineSplitter {
  static readonly MAX_LINE = 16_384
  #partial = ''
  readonly #decoder = new TextDecoder('utf-8')

  push (chunk: Uint8Array): string[] {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true })
    const parts = text.split('\n')
    this.#partial = parts.pop() ?? ''
    while (this.#partial.length > LineSplitter.MAX_LINE) {
      parts.push(this.#partial.slice(0, LineSplitter.MAX_LINE))
      this.#partial = this.#partial.slice(LineSplitter.MAX_LINE)
    }
    return parts.flatMap(p => p.length <= LineSplitter.MAX_LINE ? [p] : cut(p))
  }

  end (): string[] {
    const rest = this.#partial + this.#decoder.decode()
    this.#partial = ''
    return rest === '' ? [] : cut(rest)
  }
}

const cut = (line: string): string[] => {
  const out: string[] = []
  for (let i = 0; i < line.length; i += LineSplitter.MAX_LINE) out.push(line.slice(i, i + LineSplitter.MAX_LINE))
  return out
}

export const echoTask: TaskHandler = async input => input

export function builtinHandlers (kind: WorkerKind): Map<string, TaskHandler> {
  switch (kind) {
    case 'exec': return new Map([[EXEC_TASK_TYPES.sandbox, runSandboxTask], [EXEC_TASK_TYPES.echo, echoTask]])
    case 'model': return modelTaskHandlers()
    default: return kind satisfies never
  }
}

/** What a worker of the kind releases when it stops, after its tasks drained (the model kind: its loaded models). */
export async function releaseKind (kind: WorkerKind): Promise<void> {
  if (kind === 'model') await disposeModelTaskHost()
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
