/**
 * Server-Sent Events over the node's API with the built-in fetch: an incremental parser
 * (pure) and a reader that ends on its own when the stream goes quiet for `idleMs` (the
 * node sends a keepalive comment every 15 s), so no wait on a dead connection is unbounded.
 */
import { ApiError } from '../../base/index.js'
import { apiFetch, type LocalNode } from './client.js'

export interface SseEvent { event: string, data: string }

/** Feed it text as it arrives; it returns each event once its blank line has come. */
export class SseParser {
  #buffer = ''
  #event = ''
  #data: string[] = []

  push (chunk: string): SseEvent[] {
    this.#buffer += chunk
    const events: SseEvent[] = []
    const lines = this.#buffer.split(/\r\n|\r|\n/)
    // The last piece has no line end yet; a trailing '\r' may be half of a '\r\n'.
    this.#buffer = lines.pop() ?? ''
    if (chunk.endsWith('\r')) this.#buffer = `${lines.pop() ?? ''}\r`
    for (const line of lines) {
      if (line === '') {
        if (this.#data.length > 0) events.push({ event: this.#event === '' ? 'message' : this.#event, data: this.#data.join('\n') })
        this.#event = ''
        this.#data = []
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') this.#event = value
      else if (field === 'data') this.#data.push(value)
    }
    return events
  }
}

/** How a read of the stream ended: the listener asked to stop, the node closed it, or it broke. */
export type StreamEnd = 'stopped' | 'closed' | 'broken'

/**
 * Read the events of `path` until `onEvent` returns true, the node closes the stream, or it
 * breaks (refused, dropped, silent for `idleMs`). HTTP errors below 500 (401, 404) are thrown; so is
 * the abort of `signal`, as its reason.
 */
export async function readEvents (node: LocalNode, path: string, options: { signal: AbortSignal, idleMs: number, onEvent: (event: SseEvent) => boolean }): Promise<StreamEnd> {
  const local = new AbortController()
  const stop = (): void => { local.abort() }
  options.signal.addEventListener('abort', stop, { once: true })
  let idle = setTimeout(stop, options.idleMs)
  const alive = (): void => { clearTimeout(idle); idle = setTimeout(stop, options.idleMs) }
  try {
    const response = await apiFetch(node, 'GET', path, { signal: local.signal, accept: 'text/event-stream' })
    if (response.body === null) return 'broken'
    const decoder = new TextDecoder()
    const parser = new SseParser()
    const reader = response.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return 'closed'
      alive()
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        if (options.onEvent(event)) return 'stopped'
      }
    }
  } catch (err) {
    if (options.signal.aborted) throw options.signal.reason
    if (err instanceof ApiError && err.status < 500) throw err
    return 'broken'
  } finally {
    clearTimeout(idle)
    options.signal.removeEventListener('abort', stop)
    local.abort()
  }
}
