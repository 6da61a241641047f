/**
 * The node's API as the dashboard uses it: the token lives in sessionStorage only and goes
 * out as a bearer header, never in a URL (so no EventSource: SSE is read with fetch).
 */
const KEY = 'gryphgen.token'

export class UnauthorizedError extends Error { override name = 'UnauthorizedError' }
export class ApiError extends Error {
  override name = 'ApiError'
  constructor (message: string, readonly status: number, readonly errorName: string) { super(message) }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (value: string): void => { sessionStorage.setItem(KEY, value) },
  clear: (): void => { sessionStorage.removeItem(KEY) },
}

/** A token in the fragment (`#token=...`; a fragment never reaches a server) is kept and wiped from the address bar. */
export function takeTokenFromFragment (): boolean {
  const m = /^#token=([^&]+)/.exec(location.hash)
  if (m === null) return false
  token.set(decodeURIComponent(m[1]))
  history.replaceState(null, '', `${location.pathname}#/mesh`)
  return true
}

let onUnauthorized: () => void = () => {}
export function whenUnauthorized (handler: () => void): void { onUnauthorized = handler }

function headers (extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token.get() ?? ''}`, ...extra }
}

async function check (res: Response): Promise<Response> {
  if (res.status === 401) { onUnauthorized(); throw new UnauthorizedError('the node refused the token') }
  if (!res.ok) {
    const body = await res.json().catch(() => ({})) as { error?: { name?: string, message?: string } }
    throw new ApiError(body.error?.message ?? res.statusText, res.status, body.error?.name ?? 'Error')
  }
  return res
}

export async function api<T> (method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }), signal }
  if (body !== undefined) init.body = JSON.stringify(body)
  const res = await check(await fetch(path, init))
  return await res.json() as T
}

export async function blobText (digest: string, signal?: AbortSignal): Promise<string> {
  return (await check(await fetch(`/v1/blobs/${digest}`, { headers: headers(), signal }))).text()
}

/** Checks a token against the node without keeping it. */
export async function tokenWorks (candidate: string): Promise<boolean> {
  const res = await fetch('/v1/node', { headers: { authorization: `Bearer ${candidate}` } })
  if (res.status === 401) return false
  if (!res.ok) throw new ApiError(`the node answered ${res.status}`, res.status, 'Error')
  return true
}

/** Reads a Server-Sent Events stream until `signal` aborts or the server ends it. */
export async function events (path: string, onEvent: (name: string, data: unknown) => void, signal: AbortSignal): Promise<void> {
  const res = await check(await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal }))
  const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader()
  if (reader === undefined) return
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += value
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let name = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7)
        else if (line.startsWith('data: ')) data.push(line.slice(6))
      }
      if (data.length > 0) onEvent(name, JSON.parse(data.join('\n')))
    }
  }
}
