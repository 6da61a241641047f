/** The CLI's way to the local node: the HTTP API, with the port and token from the data dir. */
import { ApiError, NodeNotRunningError } from '../../base/index.js'
import { readApiPort, readApiToken } from '../datadir/index.js'
import { DEFAULT_API_PORT } from '../config/index.js'

export interface LocalNode {
  url: string
  token: string
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]'])
const REQUEST_TIMEOUT_MS = 10_000
const BLOB_TIMEOUT_MS = 60_000

export async function findLocalNode (dataDir: string, apiHost = '127.0.0.1'): Promise<LocalNode> {
  const token = await readApiToken(dataDir)
  if (token === undefined) throw new NodeNotRunningError(`no API token in ${dataDir}: no node has run with this data dir (start one with \`gryphgen start --data-dir ${dataDir}\`)`)
  const port = await readApiPort(dataDir) ?? DEFAULT_API_PORT
  const host = WILDCARD.has(apiHost) ? '127.0.0.1' : apiHost
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, token }
}

export interface FetchOptions { body?: unknown, signal?: AbortSignal, accept?: string }

/**
 * One API call, its answer unread: a failure to connect is NodeNotRunningError, a non-2xx
 * answer an ApiError with the node's error name. The caller's signal bounds the whole call
 * (connect and body); without one it is bounded by REQUEST_TIMEOUT_MS.
 */
export async function apiFetch (node: LocalNode, method: string, path: string, options: FetchOptions = {}): Promise<Response> {
  let response: Response
  try {
    response = await fetch(node.url + path, {
      method,
      headers: {
        authorization: `Bearer ${node.token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.accept === undefined ? {} : { accept: options.accept }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (err) {
    throw new NodeNotRunningError(`cannot reach the node at ${node.url} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}): is \`gryphgen start\` running with this data dir?`, { cause: err })
  }
  if (!response.ok) {
    const text = await response.text()
    let body: unknown
    try { body = JSON.parse(text) } catch { body = undefined }
    const error = (body as { error?: { name?: string, message?: string } } | undefined)?.error
    throw new ApiError(error?.message ?? `HTTP ${response.status}`, response.status, error?.name ?? 'HttpError')
  }
  return response
}

export async function apiRequest<T> (node: LocalNode, method: string, path: string, options: { body?: unknown, signal?: AbortSignal } = {}): Promise<T> {
  const signal = options.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS)
  const text = await (await apiFetch(node, method, path, { ...options, signal })).text()
  try { return JSON.parse(text) as T } catch { return undefined as T }
}

/** A blob's bytes (`GET /v1/blobs/:digest`): the node may fetch it from a peer first. */
export async function apiBlob (node: LocalNode, digest: string, signal?: AbortSignal): Promise<Uint8Array> {
  const bounded = signal === undefined ? AbortSignal.timeout(BLOB_TIMEOUT_MS) : AbortSignal.any([signal, AbortSignal.timeout(BLOB_TIMEOUT_MS)])
  const response = await apiFetch(node, 'GET', `/v1/blobs/${encodeURIComponent(digest)}`, { signal: bounded })
  return new Uint8Array(await response.arrayBuffer())
}
