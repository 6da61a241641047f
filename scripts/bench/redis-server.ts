/**
 * A throwaway redis-server for benchmark baselines: a child process of this one, bound to
 * 127.0.0.1 only, on a free port, in a fresh temp dir that `stop()` removes.
 *
 * Durability: no RDB snapshots (`--save ''`), an append-only file with `--appendfsync always`,
 * so every write command (a BullMQ job submission included) is fsynced to the AOF before Redis
 * answers it: the same bar as gryphgen's fsynced ledger. Put the temp dir (`parentDir`) on the
 * same file system as the gryphgen side's data dir, or the two fsyncs cost different things.
 *
 * Limits: every wait is bounded by time and takes an AbortSignal. If this process exits
 * without `stop()`, an exit hook still SIGKILLs the child (the temp dir is then left behind);
 * a SIGKILL of this process leaves the server running: it is not daemonized, find it by its
 * port.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServerInit {
  signal?: AbortSignal
  /** Where the temp dir goes. Default: `os.tmpdir()`. */
  parentDir?: string
  /** How long start-up may take until PING answers. Default 10 s. */
  startTimeoutMs?: number
  /** Default `redis-server` (from PATH; `scripts/ensure-bench-deps.sh` installs it). */
  binary?: string
}

export interface RedisServer {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly pid: number
  readonly dir: string
  /** `redis_version` from INFO, e.g. "7.0.15". */
  readonly version: string
  /** SIGTERM, SIGKILL after `killAfterMs` (default 5 s), then removes the dir. Idempotent. */
  stop: (opts?: { killAfterMs?: number }) => Promise<void>
  [Symbol.asyncDispose]: () => Promise<void>
}

export class RedisServerStartError extends Error {
  override readonly name = 'RedisServerStartError'
}

const HOST = '127.0.0.1'
const PORT_TRIES = 3

/** A port that was free a moment ago (a bind to port 0); the caller retries on a lost race. */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, HOST, resolve) })
  const address = server.address()
  await new Promise<void>(resolve => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new RedisServerStartError('could not pick a free port')
  return address.port
}

/** Sends one inline command and resolves with the whole first reply (simple or bulk string). */
async function command (port: number, line: string, signal: AbortSignal): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const socket = createConnection({ host: HOST, port })
    let data = Buffer.alloc(0)
    const done = (err: Error | undefined, reply?: string): void => {
      socket.destroy()
      signal.removeEventListener('abort', onAbort)
      if (err === undefined) resolve(reply ?? ''); else reject(err)
    }
    const onAbort = (): void => done(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('error', err => done(err))
    socket.once('close', () => done(new Error('connection closed before a reply')))
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      const end = data.indexOf('\r\n')
      if (end < 0) return
      const head = data.subarray(1, end).toString()
      const kind = String.fromCharCode(data[0])
      if (kind === '+') done(undefined, head)
      else if (kind === '-') done(new Error(head))
      else if (kind !== '$') done(new Error(`unexpected reply: ${data.subarray(0, 40).toString()}`))
      else if (data.length - end - 2 >= Number(head)) done(undefined, data.subarray(end + 2, end + 2 + Number(head)).toString())
    })
    socket.write(`${line}\r\n`)
  })
}

/** Spawns redis on `port` and waits until it answers PING; on failure kills it and throws. */
async function launch (binary: string, dir: string, port: number, signal: AbortSignal): Promise<{ child: ChildProcess, version: string }> {
  const args = ['--bind', HOST, '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'yes',
    '--appendfsync', 'always', '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning']
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-4000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exited: string | undefined
  child.once('close', (code, sig) => { exited = `exited (${sig ?? code}) before it answered PING: ${output.trim()}` })
  const spawned = await new Promise<Error | undefined>(resolve => { child.once('spawn', () => resolve(undefined)); child.once('error', resolve) })
  if (spawned !== undefined) throw new RedisServerStartError(`could not run ${binary}: ${spawned.message} (scripts/ensure-bench-deps.sh installs it)`)
  try {
    for (;;) {
      signal.throwIfAborted()
      if (exited !== undefined) throw new RedisServerStartError(`redis-server on port ${port} ${exited}`)
      const pong = await command(port, 'PING', AbortSignal.any([signal, AbortSignal.timeout(1000)])).catch(() => undefined)
      if (pong === 'PONG') break
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    const info = await command(port, 'INFO server', signal)
    return { child, version: /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown' }
  } catch (err) {
    await kill(child, 2000)
    throw err
  }
}

/** SIGTERM, then SIGKILL after `killAfterMs`; resolves once the child has exited (bounded). */
async function kill (child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exit = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const within = async (ms: number): Promise<boolean> => await Promise.race([exit.then(() => true),
    new Promise<boolean>(resolve => setTimeout(() => resolve(false), ms).unref())])
  child.kill('SIGTERM')
  if (await within(killAfterMs)) return
  child.kill('SIGKILL')
  if (!await within(5000)) throw new Error(`redis-server pid ${child.pid} did not exit after SIGKILL`)
}

export async function startRedisServer (init: RedisServerInit = {}): Promise<RedisServer> {
  const signal = AbortSignal.any([init.signal ?? new AbortController().signal, AbortSignal.timeout(init.startTimeoutMs ?? 10_000)])
  const dir = await mkdtemp(join(init.parentDir ?? tmpdir(), 'gryphgen-redis-'))
  let started: { child: ChildProcess, version: string, port: number } | undefined
  try {
    for (let attempt = 1; started === undefined; attempt++) {
      const port = await freePort()
      try {
        started = { ...await launch(init.binary ?? 'redis-server', dir, port, signal), port }
      } catch (err) {
        // Another process took the port between our probe and redis's bind: try another one.
        const lostRace = err instanceof RedisServerStartError && /address already in use/i.test(err.message)
        if (!lostRace || attempt >= PORT_TRIES) throw err
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    if (signal.aborted && !(init.signal?.aborted ?? false)) throw new RedisServerStartError(`redis-server did not answer PING within ${init.startTimeoutMs ?? 10_000} ms`)
    throw err
  }
  const { child, version, port } = started
  const onExit = (): void => { child.kill('SIGKILL') }
  process.once('exit', onExit)
  let stopping: Promise<void> | undefined
  const stop = async (opts: { killAfterMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      try {
        await kill(child, opts.killAfterMs ?? 5000)
      } finally {
        process.removeListener('exit', onExit)
        await rm(dir, { recursive: true, force: true })
      }
    })()
    await stopping
  }
  return { host: HOST, port, pid: child.pid ?? -1, dir, version, stop, [Symbol.asyncDispose]: stop }
}
