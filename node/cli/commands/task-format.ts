/**
 * Pure views of tasks for the terminal: the status page, the list table, progress lines,
 * blocked reasons, and the exit code a finished task gives `submit --wait` and `logs --follow`.
 */
import { isTerminal, type TaskViewT } from '../../../protocols/index.js'
import { ago, shortId, table } from '../output.js'

/** An `exec` result as the node reports it (other kinds leave these fields out). */
export interface ExecResult {
  exitCode?: number | null
  signal?: string | null
  timedOut?: boolean
  limitHit?: string | null
  stdout?: string
  stderr?: string
  stdoutTruncated?: boolean
  stderrTruncated?: boolean
  stdoutBlob?: { digest: string, size: number }
  stderrBlob?: { digest: string, size: number }
  files?: Array<{ path: string, size: number, sha256?: string }>
  usage?: { cpuMs?: number | null, peakMemoryMb?: number | null, wallMs?: number }
}

export const TASK_EXIT = { succeeded: 0, failed: 1, impossible: 3, cancelled: 130 } as const


export const isOver = (view: TaskViewT): boolean => isTerminal(view.state)
/** Pending, and no node of the mesh could ever run it as it stands. */
export const isImpossible = (view: TaskViewT): boolean => view.state === 'pending' && view.blocked?.verdict === 'impossible'
/** Nothing more to wait for: over, or impossible. */
export const isSettled = (view: TaskViewT): boolean => isOver(view) || isImpossible(view)

export const execResult = (view: TaskViewT): ExecResult => (view.result ?? {}) as ExecResult

/**
 * 0 succeeded; an exec's own exit code (1-255) when it failed by exiting so; 1 any other
 * failure (timed out, limit hit, killed, abandoned); 130 cancelled; 3 impossible.
 */
export function taskExitCode (view: TaskViewT): number {
  if (view.state === 'succeeded') return TASK_EXIT.succeeded
  if (view.state === 'cancelled') return TASK_EXIT.cancelled
  if (isImpossible(view)) return TASK_EXIT.impossible
  const r = execResult(view)
  const plainExit = typeof r.exitCode === 'number' && r.exitCode >= 1 && r.exitCode <= 255 && r.timedOut !== true && (r.limitHit ?? null) === null
  return plainExit ? r.exitCode as number : TASK_EXIT.failed
}

/** A line for stderr where the exit code alone does not tell how the task ended (undefined where it does). */
export function endNote (view: TaskViewT): string | undefined {
  if (view.state === 'succeeded' || (view.state === 'failed' && taskExitCode(view) !== TASK_EXIT.failed)) return undefined
  const error = view.error === undefined ? '' : view.error
  return `task ${view.id} ${error.startsWith(view.state) ? error : `${view.state}${error === '' ? '' : `: ${error}`}`}`
}

/** Node names by peer id, as the mesh advertises them (a node not in it shows its shortened id). */
export type NodeNames = ReadonlyMap<string, string>
export const nodeLabel = (peerId: string, names?: NodeNames): string => names?.get(peerId) ?? shortId(peerId)

/** The last attempt's node by name (or shortened id); '-' before any award. */
export function latestNode (view: TaskViewT, names?: NodeNames): string {
  const last = view.attempts.at(-1)
  return last === undefined ? '-' : nodeLabel(last.node, names)
}

export function blockedText (view: TaskViewT): string {
  const b = view.blocked
  if (b === undefined) return ''
  const head = b.verdict === 'impossible'
    ? `no node can ever run task ${view.id} as it stands (${b.nodes} node${b.nodes === 1 ? '' : 's'} checked):`
    : `no node can run task ${view.id} now; it waits (${b.nodes} node${b.nodes === 1 ? '' : 's'} checked):`
  return [head, ...b.reasons.map(r => `  ${r.check}: ${r.reason} (${r.nodes} node${r.nodes === 1 ? '' : 's'})`)].join('\n')
}

/** What changed enough to print a new progress line: state, node, blocked verdict. */
export const progressKey = (view: TaskViewT): string => `${view.state}/${view.attempts.length}/${view.blocked?.verdict ?? ''}`

export function progressLine (view: TaskViewT, elapsedMs: number, names?: NodeNames): string {
  const where = view.attempts.length === 0 ? '' : ` on ${latestNode(view, names)}`
  const waiting = view.state === 'pending' && view.blocked !== undefined ? ` (${view.blocked.verdict}: ${view.blocked.reasons[0]?.reason ?? 'no node fits'})` : ''
  return `task ${view.id}: ${view.state}${where}${waiting} [${(elapsedMs / 1000).toFixed(1)}s]`
}

const bytes = (n: number): string => n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`
const streamSize = (text: string | undefined, blob: { size: number } | undefined): number => blob?.size ?? Buffer.byteLength(text ?? '')

/** One line about a result: how it ended, output sizes, files, usage. */
export function resultSummary (view: TaskViewT): string {
  if (view.result === undefined) return '-'
  const r = execResult(view)
  if (r.exitCode === undefined && r.stdout === undefined) return Object.keys(view.result).length === 0 ? 'ok (no output)' : JSON.stringify(view.result)
  const end = r.timedOut === true ? 'timed out' : r.limitHit != null ? `limit hit: ${r.limitHit}` : r.signal != null ? `killed by ${r.signal}` : `exit ${String(r.exitCode)}`
  const parts = [
    end,
    `stdout ${bytes(streamSize(r.stdout, r.stdoutBlob))}${r.stdoutTruncated === true ? ' (truncated)' : ''}`,
    `stderr ${bytes(streamSize(r.stderr, r.stderrBlob))}${r.stderrTruncated === true ? ' (truncated)' : ''}`,
    `${r.files?.length ?? 0} file${r.files?.length === 1 ? '' : 's'}`,
  ]
  const u = r.usage
  if (u?.wallMs !== undefined) parts.push(`wall ${Math.round(u.wallMs)} ms`)
  if (u?.cpuMs != null) parts.push(`cpu ${Math.round(u.cpuMs)} ms`)
  if (u?.peakMemoryMb != null) parts.push(`peak ${u.peakMemoryMb} MiB`)
  return parts.join(', ')
}

function attemptLine (a: TaskViewT['attempts'][number], view: TaskViewT, names?: NodeNames): string {
  const times = [`awarded ${a.awardedAt}`, a.startedAt === undefined ? '' : `started ${a.startedAt}`, a.endedAt === undefined ? '' : `ended ${a.endedAt}`].filter(Boolean).join(', ')
  // An attempt without an outcome is still open, unless the task is over (cancelled) without one.
  const outcome = a.outcome ?? (isOver(view) ? `ended (${view.state})` : 'open')
  return `#${a.attempt} ${nodeLabel(a.node, names)} ${outcome}${a.error === undefined ? '' : ` (${a.error})`}: ${times}`
}

/** One line per checkpoint: step, node, tests, files, and the decision taken on it (a build's). */
function checkpointLine (c: NonNullable<TaskViewT['checkpoints']>[number], names?: NodeNames): string {
  const s = c.summary as { tests?: { passed: number, failed: number, errored: number } | null, decision?: { action: string, reason: string } }
  const tests = s.tests == null ? 'no test report' : `tests ${s.tests.passed} passed, ${s.tests.failed} failed${s.tests.errored > 0 ? `, ${s.tests.errored} errored` : ''}`
  const files = Object.keys(c.files).length
  const decision = s.decision === undefined ? '' : `; ${s.decision.action}: ${s.decision.reason}`
  return `step ${c.step} on ${nodeLabel(c.node, names)}${c.basedOn === null ? '' : ` (from step ${c.basedOn})`}: ${tests}, ${files} file${files === 1 ? '' : 's'}${decision}`
}

function requirementsLine (r: Record<string, unknown>): string {
  // A task that only orchestrates others (a build) reserves nothing itself.
  if (Number(r.cpus ?? 0) === 0 && Number(r.memoryMb ?? 0) === 0 && r.gpu == null && r.model === undefined) return 'nothing itself (its steps are tasks of their own)'
  const gpu = r.gpu as { count: number, minVramMb: number } | null | undefined
  return [
    `${String(r.cpus ?? 0)} cpu`, `${String(r.memoryMb ?? 0)} MB memory`,
    gpu == null ? '' : `${gpu.count} GPU >= ${gpu.minVramMb} MB`,
    r.model === undefined ? '' : `model ${String(r.model)}`,
    Array.isArray(r.labels) && r.labels.length > 0 ? `labels ${r.labels.join(',')}` : '',
    r.arch === undefined ? '' : `arch ${String(r.arch)}`,
  ].filter(Boolean).join(', ')
}

export function formatTaskStatus (view: TaskViewT, now = Date.now(), names?: NodeNames): string {
  const rows: Array<[string, string]> = [
    ['task', view.id],
    ['kind', view.kind],
    ['state', view.state],
    ['priority', String(view.priority)],
    ['submitted', `${view.submittedAt} (${ago(view.submittedAt, now)})`],
    ['updated', `${view.updatedAt} (${ago(view.updatedAt, now)})`],
    ['auctioneer', nodeLabel(view.auctioneer, names)],
    ['requires', requirementsLine(view.requirements)],
    ['attempts', view.attempts.length === 0 ? '-' : view.attempts.map(a => attemptLine(a, view, names)).join('\n            ')],
  ]
  if (view.checkpoints !== undefined && view.checkpoints.length > 0) rows.push(['checkpoints', view.checkpoints.map(c => checkpointLine(c, names)).join('\n            ')])
  if (view.error !== undefined) rows.push(['error', view.error])
  if (view.result !== undefined) rows.push(['result', resultSummary(view)])
  if (view.compacted === true) rows.push(['history', 'compacted: a signed summary replaced its entries (`/v1/tasks/:id/history`)'])
  const lines = rows.map(([k, v]) => `${k.padEnd(10)}  ${v}`)
  if (view.blocked !== undefined && !isOver(view)) lines.push('', blockedText(view))
  return lines.join('\n')
}

export function formatTaskTable (tasks: readonly TaskViewT[], now = Date.now(), names?: NodeNames): string {
  if (tasks.length === 0) return 'no tasks'
  return table(
    ['ID', 'KIND', 'STATE', 'PRI', 'NODE', 'AGE'],
    tasks.map(t => [t.id, t.kind, t.state, String(t.priority), latestNode(t, names), ago(t.submittedAt, now)]),
  )
}
