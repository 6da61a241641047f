/** The CLI's way to the local node: the HTTP API, with the port and token from the data dir. */
import { ApiError, NodeNotRunningError } from '../errors.js'
import { readApiPort, readApiToken } from '../datadir/index.js'
import { DEFAULT_API_PORT } from '../config/index.js'

export interface LocalNode {
  url: string
  token: string
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]'])

export async function findLocalNode (dataDir: string, apiHost = '127.0.0.1'): Promise<LocalNode> {
  const token = await readApiToken(dataDir)
  if (token === undefined) throw new NodeNotRunningError(`no API token in ${dataDir}: no node has run with this data dir (start one with \`gryphgen start --data-dir ${dataDir}\`)`)
  const port = await readApiPort(dataDir) ?? DEFAULT_API_PORT
  const host = WILDCARD.has(apiHost) ? '127.0.0.1' : apiHost
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, token }
}

export async function apiRequest<T> (node: LocalNode, method: string, path: string, options: { body?: unknown, signal?: AbortSignal } = {}): Promise<T> {
  let response: Response
  try {
    response = await fetch(node.url + path, {
      method,
      headers: { authorization: `Bearer ${node.token}`, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ?? AbortSignal.timeout(10_000),
    })
  } catch (err) {
    throw new NodeNotRunningError(`cannot reach the node at ${node.url} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}): is \`gryphgen start\` running with this data dir?`, { cause: err })
  }
  const text = await response.text()
  let body: unknown
  try { body = JSON.parse(text) } catch { body = undefined }
  if (!response.ok) {
    const error = (body as { error?: { name?: string, message?: string } } | undefined)?.error
    throw new ApiError(error?.message ?? `HTTP ${response.status}`, response.status, error?.name ?? 'HttpError')
  }
  return body as T
}
