/**
 * llama.cpp's own `llama-bench`, as a same-engine baseline for the model benchmark: it is built
 * by `scripts/build-llama-bench.sh` from the llama.cpp source bundled in node-llama-cpp, and
 * measures the file the benchmark measures with node-llama-cpp.
 *
 * The build is optional: `findLlamaBench()` answers undefined when it is absent and the caller
 * skips the comparison. `runLlamaBench()` runs one child (`-o json`), bounded by a timeout and
 * an AbortSignal; on either it SIGKILLs the child by PID and rejects. The child is never left
 * running when the returned promise settles, except when this process dies first.
 *
 * Comparability: the build matches node-llama-cpp's prebuilt where it matters for speed (no
 * OpenMP: ggml's own thread pool); llama-bench's defaults otherwise apply (flash attention
 * `auto`, f16 KV cache, batch 2048 / ubatch 512, poll 50) unless `extraArgs` says otherwise.
 * At more than 1 thread, node-llama-cpp matches llama-bench only in a process started with
 * UV_THREADPOOL_SIZE=1: otherwise its per-token ggml worker is often placed on the same core as
 * the libuv thread that runs the decode, and 2 threads on 2 cores lose ~35% (measured, issue 7).
 */
import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface LlamaBenchOptions {
  /** Path of the GGUF file. */
  model: string
  /** `-t`: threads for both prompt processing and generation. */
  threads: number
  /** `-n`: tokens generated one at a time after an empty context (≥ 1). */
  genTokens: number
  /** `-p`: prompt tokens processed in one batch; 0 skips the prompt test. */
  promptTokens: number
  /** `-r`: repetitions of each test (llama-bench reports their mean). */
  repetitions: number
  signal?: AbortSignal
  /** Whole run, model load included. Default 10 minutes. */
  timeoutMs?: number
  /** More llama-bench arguments, e.g. `['--poll', '0']` or `['-fa', '0']`. */
  extraArgs?: readonly string[]
}

/** One test as llama-bench's JSON printer writes it (the fields used here; more are present). */
export interface LlamaBenchRecord {
  n_prompt: number
  n_gen: number
  n_threads: number
  avg_ts: number
  stddev_ts: number
  samples_ts: number[]
  [field: string]: unknown
}

export interface LlamaBenchResult {
  /** Mean tokens/s of the prompt test; undefined when `promptTokens` is 0. */
  promptTokensPerSecond: number | undefined
  /** Mean tokens/s of single-stream generation. */
  generationTokensPerSecond: number
  /** Every test llama-bench printed. */
  raw: LlamaBenchRecord[]
}

/** llama-bench could not be started, failed, or printed something that is not its JSON. */
export class LlamaBenchError extends Error {
  override readonly name = 'LlamaBenchError'
  /** The end of llama-bench's stderr, for diagnosis. */
  readonly stderrTail: string
  constructor (message: string, stderrTail = '') {
    super(message)
    this.stderrTail = stderrTail
  }
}

/** The run took longer than `timeoutMs`; the child was killed. */
export class LlamaBenchTimeoutError extends Error {
  override readonly name = 'LlamaBenchTimeoutError'
}

/** An option is out of range; nothing was run. */
export class LlamaBenchOptionsError extends Error {
  override readonly name = 'LlamaBenchOptionsError'
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000
const STDERR_TAIL_CHARS = 4000
const STDOUT_LIMIT_CHARS = 4_000_000

/**
 * The cached llama-bench binary, or undefined when it has not been built (or cannot run).
 * Looks at `$LLAMA_BENCH` (a binary path), else `build/bin/llama-bench` under
 * `$LLAMA_BENCH_CACHE_DIR`, else under `${XDG_CACHE_HOME:-~/.cache}/gryphgen/llama-bench/<tag>`
 * with the llama.cpp release tag of the installed node-llama-cpp: the places
 * `scripts/build-llama-bench.sh` builds to.
 */
export async function findLlamaBench (env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  let binary = env.LLAMA_BENCH
  if (binary === undefined || binary === '') {
    let cacheDir = env.LLAMA_BENCH_CACHE_DIR
    if (cacheDir === undefined || cacheDir === '') {
      const tag = await llamaCppReleaseTag()
      if (tag === undefined) return undefined
      const cacheHome = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache')
      cacheDir = join(cacheHome, 'gryphgen', 'llama-bench', tag)
    }
    binary = join(cacheDir, 'build', 'bin', 'llama-bench')
  }
  try {
    await access(binary, constants.X_OK)
    return binary
  } catch {
    return undefined
  }
}

/** The llama.cpp release bundled in the installed node-llama-cpp (e.g. "b7000"), if readable. */
async function llamaCppReleaseTag (): Promise<string | undefined> {
  try {
    // dist/index.js -> the package root
    const packageRoot = dirname(dirname(fileURLToPath(import.meta.resolve('node-llama-cpp'))))
    const info: unknown = JSON.parse(await readFile(join(packageRoot, 'llama', 'llama.cpp.info.json'), 'utf8'))
    const tag = (info as { tag?: unknown }).tag
    return typeof tag === 'string' && /^[\w.-]+$/.test(tag) ? tag : undefined
  } catch {
    return undefined
  }
}

function checkOptions (o: LlamaBenchOptions): void {
  const problems: string[] = []
  const int = (name: string, value: number, min: number): void => {
    if (!Number.isSafeInteger(value) || value < min) problems.push(`${name} must be an integer ≥ ${min} (got ${value})`)
  }
  if (typeof o.model !== 'string' || o.model === '') problems.push('model must be a file path')
  int('threads', o.threads, 1)
  int('genTokens', o.genTokens, 1)
  int('promptTokens', o.promptTokens, 0)
  int('repetitions', o.repetitions, 1)
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0)) problems.push(`timeoutMs must be > 0 (got ${o.timeoutMs})`)
  if (problems.length > 0) throw new LlamaBenchOptionsError(problems.join('; '))
}

/** Runs llama-bench once (a prompt test unless `promptTokens` is 0, then a generation test). */
export async function runLlamaBench (binary: string, options: LlamaBenchOptions): Promise<LlamaBenchResult> {
  checkOptions(options)
  const { signal } = options
  signal?.throwIfAborted()
  const args = [
    '-m', options.model,
    '-t', String(options.threads),
    '-p', String(options.promptTokens),
    '-n', String(options.genTokens),
    '-r', String(options.repetitions),
    '-o', 'json',
    ...(options.extraArgs ?? []),
  ]
  const { stdout, stderrTail } = await runChild(binary, args, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal)
  return parseOutput(stdout, stderrTail, options)
}

async function runChild (binary: string, args: string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<{ stdout: string, stderrTail: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderrTail = ''
    let failure: Error | undefined
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (stdout.length > STDOUT_LIMIT_CHARS) stop(new LlamaBenchError(`llama-bench printed more than ${STDOUT_LIMIT_CHARS} characters`, stderrTail))
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS) })

    const stop = (err: Error): void => {
      failure ??= err
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try { process.kill(child.pid, 'SIGKILL') } catch { /* already gone */ }
      }
    }
    const onAbort = (): void => stop(signal?.reason instanceof Error ? signal.reason : new Error('aborted'))
    const timer = setTimeout(() => stop(new LlamaBenchTimeoutError(`llama-bench ran longer than ${timeoutMs} ms`)), timeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })

    const settle = (err: Error | undefined): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve({ stdout, stderrTail }); else reject(err)
    }
    child.once('error', err => settle(failure ?? new LlamaBenchError(`could not run ${binary}: ${err.message}`, stderrTail)))
    child.once('close', (code, sig) => {
      if (failure !== undefined) settle(failure)
      else if (code !== 0) settle(new LlamaBenchError(`llama-bench exited with ${sig ?? `code ${code}`}: ${lastLine(stderrTail)}`, stderrTail))
      else settle(undefined)
    })
  })
}

function lastLine (text: string): string {
  const lines = text.trim().split('\n')
  return lines[lines.length - 1] ?? ''
}

function isRecord (value: unknown): value is LlamaBenchRecord {
  if (typeof value !== 'object' || value === null) return false
  const r = value as Record<string, unknown>
  return ['n_prompt', 'n_gen', 'n_threads', 'avg_ts', 'stddev_ts'].every(k => typeof r[k] === 'number' && Number.isFinite(r[k])) &&
    Array.isArray(r.samples_ts) && r.samples_ts.every(s => typeof s === 'number')
}

function parseOutput (stdout: string, stderrTail: string, options: LlamaBenchOptions): LlamaBenchResult {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch (err) {
    throw new LlamaBenchError(`llama-bench output is not JSON: ${(err as Error).message}`, stderrTail)
  }
  if (!Array.isArray(parsed) || !parsed.every(isRecord)) throw new LlamaBenchError('llama-bench JSON is not a list of test records', stderrTail)
  const raw = parsed
  const generation = raw.find(r => r.n_prompt === 0 && r.n_gen === options.genTokens)
  const prompt = raw.find(r => r.n_prompt === options.promptTokens && r.n_gen === 0)
  if (generation === undefined) throw new LlamaBenchError(`llama-bench printed no generation test (n_gen ${options.genTokens})`, stderrTail)
  if (options.promptTokens > 0 && prompt === undefined) throw new LlamaBenchError(`llama-bench printed no prompt test (n_prompt ${options.promptTokens})`, stderrTail)
  return {
    promptTokensPerSecond: options.promptTokens > 0 ? prompt?.avg_ts : undefined,
    generationTokensPerSecond: generation.avg_ts,
    raw,
  }
}
