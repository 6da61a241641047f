/**
 * `gryphgen top`: the mesh seen from the local node, redrawn every `--interval` seconds until q
 * or Ctrl-C. With `--once`, or when stdout is not a terminal, it prints one screen and exits
 * (`--json`: that screen's data). Every request is bounded; a failed refresh shows the error and
 * the next one tries again.
 */
import type { NodeBodyT, PeerViewT } from '../../api/index.js'
import type { TaskViewT } from '../../../protocols/index.js'
import { UsageError } from '../../../base/index.js'
import { apiRequest, type LocalNode } from '../client.js'
import { onInterrupt } from '../interrupt.js'
import { write, writeJson } from '../output.js'
import { formatTop, type TopSnapshot } from './top-format.js'

export interface TopFlags { interval?: string, once?: boolean, json?: boolean }

const UNFINISHED = ['running', 'awarded', 'pending'] as const

export async function topSnapshot (local: LocalNode, signal: AbortSignal): Promise<TopSnapshot> {
  const get = async <T>(path: string): Promise<T> => apiRequest<T>(local, 'GET', path, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
  const [node, { peers }, ...lists] = await Promise.all([
    get<NodeBodyT>('/v1/node'),
    get<{ peers: PeerViewT[] }>('/v1/peers'),
    ...UNFINISHED.map(async state => get<{ tasks: TaskViewT[] }>(`/v1/tasks?state=${state}&limit=200`)),
  ]) as [NodeBodyT, { peers: PeerViewT[] }, ...Array<{ tasks: TaskViewT[] }>]
  const tasks = lists.flatMap(l => l.tasks).sort((a, b) => b.submittedAt.localeCompare(a.submittedAt))
  return { node, peers, tasks, at: Date.now() }
}

function intervalMs (flag: string | undefined): number {
  const seconds = flag === undefined ? 2 : Number(flag)
  if (!Number.isFinite(seconds) || seconds < 0.2 || seconds > 3600) throw new UsageError(`--interval: expected seconds between 0.2 and 3600, got ${JSON.stringify(flag)}`)
  return seconds * 1000
}

export async function topCommand (local: LocalNode, flags: TopFlags): Promise<void> {
  const every = intervalMs(flags.interval)
  const interactive = flags.once !== true && flags.json !== true && process.stdout.isTTY
  if (!interactive) {
    const snapshot = await topSnapshot(local, AbortSignal.timeout(30_000))
    if (flags.json === true) writeJson(snapshot)
    else write(formatTop(snapshot))
    return
  }
  const interrupt = onInterrupt()
  const stop = new AbortController()
  const signal = AbortSignal.any([interrupt.signal, stop.signal])
  const stdin = process.stdin
  const keys = (data: Buffer): void => { if (['q', 'Q', '\u0003'].includes(data.toString())) stop.abort() }
  if (stdin.isTTY) { stdin.setRawMode(true); stdin.resume(); stdin.on('data', keys) }
  try {
    while (!signal.aborted) {
      let screen: string
      try {
        const rows = Math.max(5, (process.stdout.rows ?? 40) - 12)
        screen = formatTop(await topSnapshot(local, signal), { tasks: rows })
      } catch (err) {
        if (signal.aborted) break
        screen = `gryphgen top: ${(err as Error).message}`
      }
      process.stdout.write(`\u001b[H\u001b[2J${screen}\n\n(refresh every ${every / 1000} s; q to quit)\n`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, every)
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
      })
    }
  } finally {
    interrupt.dispose()
    if (stdin.isTTY) { stdin.off('data', keys); stdin.setRawMode(false); stdin.pause() }
  }
}
