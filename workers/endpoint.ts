/**
 * Where the broker listens. Default: `ipc://<data-dir>/workers.sock`, a Unix socket inside the
 * node's 0700 data dir, so only its owner (and root) can even connect. Configured: a
 * `tcp://HOST:PORT` endpoint (port 0 picks a free one) for workers that cannot see the data
 * dir, such as a container; the token then crosses that network in clear text, so keep it on
 * loopback or a host-only bridge.
 */
import { join } from 'node:path'
import { WorkerPoolConfigError } from './errors.js'

export const WORKER_SOCKET_FILE = 'workers.sock'
/** sun_path holds 108 bytes including the terminating NUL. */
const IPC_PATH_MAX_BYTES = 107
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

export function ipcEndpoint (dataDir: string): string {
  const path = join(dataDir, WORKER_SOCKET_FILE)
  if (Buffer.byteLength(path) > IPC_PATH_MAX_BYTES) {
    throw new WorkerPoolConfigError(`the worker socket path ${path} is longer than ${IPC_PATH_MAX_BYTES} bytes; use a shorter data dir or a tcp://127.0.0.1:PORT worker endpoint`, { details: ['socket path too long'] })
  }
  return `ipc://${path}`
}

/** Problems with a configured endpoint (empty when it is usable). */
export function endpointProblems (endpoint: string): string[] {
  if (endpoint.startsWith('ipc://')) {
    const path = endpoint.slice('ipc://'.length)
    if (!path.startsWith('/')) return [`ipc endpoint ${endpoint} must name an absolute path`]
    if (Buffer.byteLength(path) > IPC_PATH_MAX_BYTES) return [`ipc path of ${endpoint} is longer than ${IPC_PATH_MAX_BYTES} bytes`]
    return []
  }
  const match = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(endpoint)
  if (match === null || Number(match[2]) > 65_535) return [`endpoint ${endpoint} is neither ipc:///ABSOLUTE/PATH nor tcp://HOST:PORT`]
  return []
}

export function isLoopbackEndpoint (endpoint: string): boolean {
  if (endpoint.startsWith('ipc://')) return true
  const host = /^tcp:\/\/(.+):\d+$/.exec(endpoint)?.[1]
  return host !== undefined && LOOPBACK_HOSTS.has(host)
}
