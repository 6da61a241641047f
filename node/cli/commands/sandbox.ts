/** `gryphgen sandbox run`: run one command locally in the sandbox and print its result. */
import { readFile } from 'node:fs/promises'
import { runSandboxed, type SandboxLimits, type SandboxResult, type SandboxSpec } from '../../../sandbox/index.js'
import { UsageError } from '../../errors.js'
import { write, writeError, writeJson } from '../output.js'

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
    const raw = options[option]
    if (raw === undefined) continue
    if (typeof raw !== 'string' || !/^\d+$/.test(raw)) problems.push(`${flag}: expected a whole number, got ${JSON.stringify(raw)}`)
    else limits[limit] = Number.parseInt(raw, 10)
  }
  const files: Record<string, string> = {}
  for (const item of options.file ?? []) {
    const match = /^([^=]+)=@(.+)$/.exec(item)
    if (match === null) { problems.push(`--file: expected PATH=@LOCALFILE, got ${JSON.stringify(item)}`); continue }
    try {
      files[match[1]] = await readFile(match[2], 'utf8')
    } catch (err) {
      problems.push(`--file ${match[1]}: cannot read ${match[2]} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  const env: Record<string, string> = {}
  for (const item of options.env ?? []) {
    const eq = item.indexOf('=')
    if (eq <= 0) problems.push(`--env: expected NAME=VALUE, got ${JSON.stringify(item)}`)
    else env[item.slice(0, eq)] = item.slice(eq + 1)
  }
  if (command.length === 0) problems.push('no command given: gryphgen sandbox run [options] -- CMD ARGS...')
  if (problems.length > 0) throw new UsageError(`invalid sandbox run:\n  - ${problems.join('\n  - ')}`, { details: problems })
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
  const abort = new AbortController()
  const onSignal = (): void => { abort.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const result = await runSandboxed(spec, { signal: abort.signal })
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
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
