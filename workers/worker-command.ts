/**
 * `gryphgen worker` and worker-main: run one worker until SIGINT/SIGTERM (or, for a worker the
 * pool spawned, until its control pipe closes: the node is gone).
 *
 * The token, first found wins: the control pipe (`controlFd`, spawned workers), `tokenFile`,
 * the GRYPHGEN_WORKER_TOKEN environment variable, `<data-dir>/worker-token`. The endpoint
 * defaults to `ipc://<data-dir>/workers.sock`.
 */
import { Socket } from 'node:net'
import { DataDirError, dataDirOf, createLogger, type Logger } from '../base/index.js'
import { WORKER_KINDS, type WorkerKind } from '../protocols/index.js'
import { ipcEndpoint } from './endpoint.js'
import { WorkerPoolConfigError } from './errors.js'
import { loadHandlerModules } from './handlers.js'
import { lowerOwnPriority, MAX_NICE } from './priority.js'
import { readWorkerToken, workerTokenPath } from './token.js'
import { runWorker } from './worker.js'

export interface WorkerCommandOptions {
  kind: string
  connect?: string
  dataDir?: string
  tokenFile?: string
  slots?: number
  logLevel?: string
  /** Absolute paths of handler modules. */
  handlers?: string[]
  /** An inherited fd carrying `{"token","workerId"}` as one JSON line; its end means the node is gone. */
  controlFd?: number
  /** Niceness (0-19) for every thread of this process, set before anything else runs (priority.ts). */
  nice?: number
  env?: Record<string, string | undefined>
}

interface ControlLine { token: string, workerId: string }

/** Reads the control line; `onClose` runs when the pipe ends (the parent exited). */
async function readControl (fd: number, onClose: () => void): Promise<ControlLine> {
  const pipe = new Socket({ fd, readable: true, writable: false })
  pipe.once('close', onClose)
  pipe.on('error', () => { /* close follows */ })
  return await new Promise<ControlLine>((resolve, reject) => {
    let text = ''
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8')
      const newline = text.indexOf('\n')
      if (newline === -1) {
        if (text.length > 4096) reject(new WorkerPoolConfigError('control line too long'))
        return
      }
      pipe.off('data', onData)
      try {
        const line = JSON.parse(text.slice(0, newline)) as Partial<ControlLine>
        if (typeof line.token !== 'string' || typeof line.workerId !== 'string') throw new Error('token or workerId missing')
        resolve({ token: line.token, workerId: line.workerId })
      } catch (err) {
        reject(new WorkerPoolConfigError(`invalid control line: ${(err as Error).message}`))
      }
    }
    pipe.on('data', onData)
    pipe.once('end', () => reject(new WorkerPoolConfigError('control pipe closed before the token arrived')))
  })
}

async function defaultDataDir (options: WorkerCommandOptions, env: Record<string, string | undefined>): Promise<string> {
  return dataDirOf(options.dataDir, env)
}

async function fileToken (path: string): Promise<string> {
  const token = await readWorkerToken(path)
  if (token === undefined) throw new DataDirError(`no worker token at ${path}: start the node with this data dir first, or pass --token-file`)
  return token
}

export async function runWorkerCommand (options: WorkerCommandOptions, signal?: AbortSignal): Promise<void> {
  const env = options.env ?? process.env
  if (!(WORKER_KINDS as readonly string[]).includes(options.kind)) {
    throw new WorkerPoolConfigError(`unknown worker kind '${options.kind}' (known: ${WORKER_KINDS.join(', ')})`, { details: ['kind'] })
  }
  const kind = options.kind as WorkerKind
  const logger: Logger = createLogger({ level: options.logLevel ?? 'info', pretty: false, destination: process.stderr })
  if (options.nice !== undefined) {
    if (!Number.isInteger(options.nice) || options.nice < 0 || options.nice > MAX_NICE) {
      throw new WorkerPoolConfigError(`nice must be an integer from 0 to ${MAX_NICE}`, { details: ['nice'] })
    }
    lowerOwnPriority(options.nice, logger)
  }
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  signal?.addEventListener('abort', onSignal, { once: true })
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    let token: string
    let workerId: string | undefined
    let dataDir: string | undefined
    if (options.controlFd !== undefined) {
      ({ token, workerId } = await readControl(options.controlFd, () => {
        logger.info('the node is gone (control pipe closed); stopping')
        stop.abort()
      }))
    } else if (options.tokenFile !== undefined) {
      token = await fileToken(options.tokenFile)
    } else if (env.GRYPHGEN_WORKER_TOKEN !== undefined && env.GRYPHGEN_WORKER_TOKEN !== '') {
      token = env.GRYPHGEN_WORKER_TOKEN
    } else {
      dataDir = await defaultDataDir(options, env)
      token = await fileToken(workerTokenPath(dataDir))
    }
    const endpoint = options.connect ?? ipcEndpoint(dataDir ?? await defaultDataDir(options, env))
    const handlers = await loadHandlerModules(options.handlers ?? [])
    await runWorker({ endpoint, kind, token, workerId, signal: stop.signal, logger, slots: options.slots, handlers })
  } finally {
    signal?.removeEventListener('abort', onSignal)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await new Promise<void>(resolve => logger.flush(() => resolve()))
  }
}
