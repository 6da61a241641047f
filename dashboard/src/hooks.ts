/** Small hooks: poll an API call; the mesh's nodes by peer id (names come from peers' adverts: text only). */
import { useEffect, useState } from 'preact/hooks'
import { api } from './api.js'
import type { NodeInfo, Peer } from './types.js'

export interface Polled<T> { data: T | undefined, error: string | undefined, reload: () => void }

/** Calls `load` now and every `everyMs` while mounted (and when `deps` change). */
export function usePoll<T> (load: (signal: AbortSignal) => Promise<T>, everyMs: number, deps: unknown[] = []): Polled<T> {
  const [data, setData] = useState<T>()
  const [error, setError] = useState<string>()
  const [tick, setTick] = useState(0)
  useEffect(() => {
    const abort = new AbortController()
    const run = (): void => {
      load(abort.signal).then(d => { setData(d); setError(undefined) }, (err: Error) => { if (!abort.signal.aborted) setError(err.message) })
    }
    run()
    const timer = setInterval(run, everyMs)
    return () => { abort.abort(); clearInterval(timer) }
  }, [...deps, tick])
  return { data, error, reload: () => { setTick(t => t + 1) } }
}

export interface Mesh { self: NodeInfo | undefined, peers: Peer[], name: (peerId: string | undefined) => string }

export function useMesh (everyMs = 2000): Mesh & { error: string | undefined } {
  const { data, error } = usePoll(async signal => {
    const [self, { peers }] = await Promise.all([api<NodeInfo>('GET', '/v1/node', undefined, signal), api<{ peers: Peer[] }>('GET', '/v1/peers', undefined, signal)])
    return { self, peers }
  }, everyMs)
  const names = new Map<string, string>()
  for (const p of data?.peers ?? []) names.set(p.peerId, p.capabilities.name)
  if (data?.self !== undefined) names.set(data.self.peerId, data.self.name)
  return {
    self: data?.self,
    peers: data?.peers ?? [],
    error,
    name: id => id === undefined ? '' : names.get(id) ?? short(id),
  }
}

export const short = (id: string): string => id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id
export const ago = (iso: string | number): string => {
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000)
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`
}
export const time = (iso: string | undefined): string => iso === undefined ? '' : new Date(iso).toLocaleTimeString()
