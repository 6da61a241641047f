/** `gryphgen sandbox run`: run one command locally in the sandbox and print its result. */
import { runSandboxed, type SandboxLimits, type SandboxResult, type SandboxSpec } from '../../../sandbox/index.js'
import { write, writeError, writeJson } from '../output.js'
import { onInterrupt } from '../interrupt.js'
import { fileFlags, nameValues, rejectProblems, wholeNumber } from '../flags.js'

export interface SandboxRunOptions {
  memoryMb?: string
  cpuMs?: string
  timeoutMs?: string
  pids?: string
  outputBytes?: string
  file?: string[]
  env?: string[]
  collect?: string[]
  json?: boolean
}

const LIMIT_FLAGS: Array<[keyof SandboxRunOptions, keyof SandboxLimits, string]> = [
  ['memoryMb', 'memoryMb', '--memory-mb'], ['cpuMs', 'cpuMs', '--cpu-ms'], ['timeoutMs', 'wallMs', '--timeout-ms'],
  ['pids', 'pids', '--pids'], ['outputBytes', 'outputBytes', '--output-bytes'],
]

/** Build the spec from flags; every problem is listed in one UsageError. */
export async function specFromFlags (command: string[], options: SandboxRunOptions): Promise<SandboxSpec> {
  const problems: string[] = []
  const limits: Partial<SandboxLimits> = {}
  for (const [option, limit, flag] of LIMIT_FLAGS) {
    const value = wholeNumber(options[option], flag, problems)
    if (value !== undefined) limits[limit] = value
  }
  const files = await fileFlags(options.file, problems, { inlineText: false })
  const env = nameValues(options.env, '--env', problems)
  if (command.length === 0) problems.push('no command given: gryphgen sandbox run [options] -- CMD ARGS...')
  rejectProblems('invalid sandbox run', problems)
  return { command, files, env, collect: options.collect ?? [], limits }
}

/** The exit code a shell would show: the command's, 128 + signal, or 125 for a limit kill. */
export function exitCodeOf (result: SandboxResult): number {
  if (result.exitCode !== null) return result.exitCode
  const signals: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGXCPU: 24, SIGXFSZ: 25, SIGSEGV: 11, SIGABRT: 6 }
  return result.signal === null ? 125 : 128 + (signals[result.signal] ?? 0)
}

export async function sandboxRunCommand (command: string[], options: SandboxRunOptions): Promise<number> {
  const spec = await specFromFlags(command, options)
  const interrupt = onInterrupt()
  try {
    const result = await runSandboxed(spec, { signal: interrupt.signal })
    if (options.json === true) {
      writeJson(result)
    } else {
      if (result.stdout !== '') process.stdout.write(result.stdout)
      if (result.stderr !== '') process.stderr.write(result.stderr)
      if (result.limitHit !== null || result.timedOut) writeError(`gryphgen: sandbox limit hit: ${result.limitHit ?? 'wall'}${result.timedOut ? ' (timed out)' : ''}`)
      for (const f of result.files) write(`file ${f.path} (${f.size} bytes, sha256 ${f.sha256})`)
    }
    return exitCodeOf(result)
  } finally {
    interrupt.dispose()
  }
}
