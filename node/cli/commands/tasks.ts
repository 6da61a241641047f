/**
 * The task commands: `submit`, `status`, `tasks`, `cancel`, `logs`. Waiting (`submit --wait`,
 * `logs --follow`) follows the task's events, shows progress on stderr (one updating line on
 * a terminal, a line per change otherwise), then prints the task's output (the whole text
 * from the blob store when the result only keeps a preview) and gives the exit code of
 * `taskExitCode`. Ctrl-C stops waiting (exit 130); the task itself goes on.
 */
import type { SubmitReplyT, TaskViewT } from '../../../protocols/index.js'
import { apiBlob, apiRequest, type LocalNode } from '../client.js'
import { onInterrupt } from '../interrupt.js'
import { write, writeError, writeJson } from '../output.js'
import { followTask, getTask, type TaskLog } from './task-follow.js'
import { TASK_EXIT, blockedText, endNote, execResult, formatTaskStatus, formatTaskTable, isImpossible, isOver, progressKey, progressLine, taskExitCode, type NodeNames } from './task-format.js'

/** The mesh's node names by peer id (this node and its peers); empty if the node cannot say. */
async function nodeNames (local: LocalNode): Promise<NodeNames> {
  try {
    const [self, { peers }] = await Promise.all([
      apiRequest<{ peerId: string, name: string }>(local, 'GET', '/v1/node'),
      apiRequest<{ peers: Array<{ peerId: string, capabilities: { name: string } }> }>(local, 'GET', '/v1/peers'),
    ])
    return new Map([[self.peerId, self.name], ...peers.map(p => [p.peerId, p.capabilities.name] as [string, string])])
  } catch {
    return new Map()
  }
}

export interface WaitOptions { json?: boolean, logs?: boolean }

export async function submitTask (local: LocalNode, body: Record<string, unknown>, options: WaitOptions & { wait?: boolean }): Promise<number> {
  const reply = await apiRequest<SubmitReplyT>(local, 'POST', '/v1/tasks', { body, signal: AbortSignal.timeout(35_000) })
  if (options.wait !== true) {
    if (options.json === true) writeJson(reply)
    else write(reply.id)
    return 0
  }
  if (options.json !== true) writeError(`task ${reply.id} submitted`)
  return waitForTask(local, reply.id, options)
}

export async function showTask (local: LocalNode, id: string, json: boolean): Promise<void> {
  const view = await getTask(local, id)
  if (json) writeJson(view)
  else write(formatTaskStatus(view, Date.now(), await nodeNames(local)))
}

export async function listTasks (local: LocalNode, query: { state?: string, limit?: number }, json: boolean): Promise<void> {
  const params = new URLSearchParams()
  if (query.state !== undefined) params.set('state', query.state)
  if (query.limit !== undefined) params.set('limit', String(query.limit))
  const { tasks } = await apiRequest<{ tasks: TaskViewT[] }>(local, 'GET', `/v1/tasks${params.size === 0 ? '' : `?${params.toString()}`}`)
  if (json) writeJson({ tasks })
  else write(formatTaskTable(tasks, Date.now(), await nodeNames(local)))
}

export async function cancelTask (local: LocalNode, id: string, json: boolean): Promise<void> {
  const view = await apiRequest<TaskViewT>(local, 'DELETE', `/v1/tasks/${encodeURIComponent(id)}`)
  if (json) writeJson(view)
  else write(`task ${id}: ${view.state}`)
}

/** `logs`: the output of a task that is over; with `follow`, wait for it like `submit --wait`. */
export async function taskLogs (local: LocalNode, id: string, follow: boolean): Promise<number> {
  if (follow) return waitForTask(local, id, { logs: true })
  const view = await getTask(local, id)
  if (!isOver(view)) {
    writeError(`task ${id} is ${view.state}: its output comes when it is over (--follow waits for it)`)
    if (view.blocked !== undefined) writeError(blockedText(view))
    return 0
  }
  await printOutput(local, view, AbortSignal.timeout(120_000))
  return 0
}

export async function waitForTask (local: LocalNode, id: string, options: WaitOptions): Promise<number> {
  const interrupt = onInterrupt()
  const progress = progressReporter(options.logs === true || (options.json === true && process.stderr.isTTY !== true), await nodeNames(local))
  const onLog = options.logs === true ? (log: TaskLog) => { progress.clear(); writeError(`[${log.stream}] ${log.line}`) } : undefined
  try {
    const view = await followTask(local, id, { signal: interrupt.signal, onState: progress.update, onLog })
    progress.stop()
    if (options.json === true) writeJson(view)
    if (isImpossible(view)) {
      writeError(`${blockedText(view)}\nthe task stays pending (a node that fits may still join); cancel it with: gryphgen cancel ${id}`)
      return TASK_EXIT.impossible
    }
    if (options.json !== true) await printOutput(local, view, interrupt.signal)
    const note = endNote(view)
    if (note !== undefined) writeError(`gryphgen: ${note}`)
    return taskExitCode(view)
  } catch (err) {
    if (!interrupt.signal.aborted) throw err
    progress.stop()
    writeError(`gryphgen: stopped waiting; task ${id} goes on (gryphgen status ${id}; gryphgen cancel ${id})`)
    return TASK_EXIT.cancelled
  } finally {
    progress.stop()
    interrupt.dispose()
  }
}

/** stdout to stdout and stderr to stderr, whole (from the blob store when moved there). */
async function printOutput (local: LocalNode, view: TaskViewT, signal: AbortSignal): Promise<void> {
  const r = execResult(view)
  for (const [name, sink] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
    const preview = r[name] ?? ''
    const blob = r[`${name}Blob`]
    let text = preview
    if (blob !== undefined) {
      try {
        text = Buffer.from(await apiBlob(local, blob.digest, signal)).toString('utf8')
      } catch (err) {
        writeError(`gryphgen: cannot fetch the whole ${name} (blob ${blob.digest}, ${blob.size} bytes): ${(err as Error).message}; showing its first ${Buffer.byteLength(preview)} bytes`)
      }
    }
    if (text !== '') sink.write(text)
    if (r[`${name}Truncated`] === true) writeError(`gryphgen: the task's ${name} was cut at its output limit`)
  }
  for (const f of r.files ?? []) writeError(`file ${f.path} (${f.size} bytes${f.sha256 === undefined ? '' : `, sha256 ${f.sha256}`})`)
}

interface Progress { update: (view: TaskViewT) => void, clear: () => void, stop: () => void }

/** On a terminal: one status line, redrawn each second. Otherwise a line per change (none when quiet). `stop` is final. */
function progressReporter (quiet: boolean, names: NodeNames): Progress {
  const started = Date.now()
  const tty = process.stderr.isTTY === true && !quiet
  let last: TaskViewT | undefined
  let key = ''
  let drawn = false
  let stopped = false
  const draw = (): void => {
    if (last === undefined) return
    const columns = process.stderr.columns ?? 0
    const width = (columns > 20 ? columns : 80) - 1
    process.stderr.write(`\r\x1b[2K${progressLine(last, Date.now() - started, names).slice(0, width)}`)
    drawn = true
  }
  const timer = tty ? setInterval(draw, 1000) : undefined
  const clear = (): void => {
    if (drawn) process.stderr.write('\r\x1b[2K')
    drawn = false
  }
  return {
    update: view => {
      if (stopped) return
      last = view
      if (tty) { draw(); return }
      if (quiet || progressKey(view) === key) return
      key = progressKey(view)
      writeError(progressLine(view, Date.now() - started, names))
    },
    clear,
    stop: () => { stopped = true; clearInterval(timer); clear() },
  }
}
