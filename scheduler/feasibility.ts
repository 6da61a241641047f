/**
 * Feasibility: one check per requirement, each saying why a node is unfit (Nomad's
 * feasibility stage). Two degrees of unfit:
 * - `later`: the node could run it once its state changes (memory in use, sandbox not probed
 *   yet, no worker slot of the kind ready): the task waits and is re-auctioned.
 * - `never`: the node's advertised capabilities cannot meet it (too few cores, too little
 *   total memory or VRAM, no such model, label or arch). Only a new advert can change that.
 * `meshVerdict` over all live nodes: `impossible` when every node says `never`.
 * Pure, no I/O.
 */
import { ImpossibleTaskError, InvalidRequirementsError } from './errors.js'
import { MAX_PRIORITY, MIN_PRIORITY, type TaskRequirements, type PlacementTask, type NodeView, type CheckName, type Fit, type NodeReasons, type Unfit } from './types.js'


export type { CheckName, Fit, NodeReasons, Unfit }

type Check = (task: PlacementTask, node: NodeView) => Unfit | null

const unfit = (check: CheckName, fit: 'later' | 'never', reason: string): Unfit => ({ check, fit, reason })

/** Each check owns one requirement; order is the order reasons are reported in. */
export const CHECKS: ReadonlyArray<readonly [CheckName, Check]> = [
  ['cpus', (t, n) => t.requirements.cpus > n.cpus ? unfit('cpus', 'never', `needs ${t.requirements.cpus} cpus, node has ${n.cpus}`) : null],
  ['memory', (t, n) => {
    const need = t.requirements.memoryMb
    if (need > n.memoryTotalMb) return unfit('memory', 'never', `needs ${need} MB memory, node has ${n.memoryTotalMb} MB in total`)
    if (need > n.memoryAvailableMb) return unfit('memory', 'later', `needs ${need} MB memory, ${n.memoryAvailableMb} MB available now`)
    return null
  }],
  ['gpu', (t, n) => {
    const gpu = t.requirements.gpu
    if (gpu === null || gpu.count === 0) return null
    const fitting = n.gpuVramMb.filter(v => v >= gpu.minVramMb).length
    if (fitting >= gpu.count) return null
    return unfit('gpu', 'never', `needs ${gpu.count} GPU(s) with >= ${gpu.minVramMb} MB VRAM, node has ${fitting} (of ${n.gpuVramMb.length})`)
  }],
  ['model', (t, n) => {
    const model = t.requirements.model
    return model === undefined || n.models.includes(model) ? null : unfit('model', 'never', `needs model ${model}, node does not have it`)
  }],
  ['labels', (t, n) => {
    const missing = (t.requirements.labels ?? []).filter(l => !n.labels.includes(l))
    return missing.length === 0 ? null : unfit('labels', 'never', `needs labels ${missing.join(', ')}`)
  }],
  ['arch', (t, n) => {
    const arch = t.requirements.arch
    return arch === undefined || arch === n.arch ? null : unfit('arch', 'never', `needs arch ${arch}, node is ${n.arch}`)
  }],
  ['sandbox', (t, n) => {
    if (t.needsSandbox !== true || n.sandboxAvailable === true) return null
    return n.sandboxAvailable === null
      ? unfit('sandbox', 'later', `${t.kind} needs the sandbox; node has not probed it yet`)
      : unfit('sandbox', 'never', `${t.kind} needs the sandbox; node has none`)
  }],
  ['runtimes', (t, n) => {
    const missing = (t.requirements.runtimes ?? []).filter(r => !n.runtimes.includes(r))
    if (missing.length === 0) return null
    // Before its sandbox probe a node may yet have them.
    if (n.sandboxAvailable === null) return unfit('runtimes', 'later', `needs ${missing.join(', ')} in the sandbox; node has not probed it yet`)
    return unfit('runtimes', 'never', `needs ${missing.join(', ')} in the sandbox; node has ${n.runtimes.length === 0 ? 'none' : n.runtimes.join(', ')}`)
  }],
  ['workers', (_t, n) => n.load.slots > 0 ? null : unfit('workers', 'later', 'node has no worker slot of this kind ready')],
]

export interface Feasibility { fit: Fit, reasons: Unfit[] }

/** Every reason a node is unfit (not just the first), and the worst degree among them. */
export function checkNode (task: PlacementTask, node: NodeView): Feasibility {
  const reasons: Unfit[] = []
  for (const [, check] of CHECKS) {
    const r = check(task, node)
    if (r !== null) reasons.push(r)
  }
  const fit: Fit = reasons.length === 0 ? 'now' : reasons.some(r => r.fit === 'never') ? 'never' : 'later'
  return { fit, reasons }
}

export interface MeshVerdict {
  /** `feasible`: some node fits now; `wait`: none now, some later; `impossible`: none ever. */
  verdict: 'feasible' | 'wait' | 'impossible'
  fitNow: NodeView[]
  /** Every unfit node's reasons, by node id: what an impossible task reports. */
  reasons: NodeReasons
}

export function meshVerdict (task: PlacementTask, nodes: readonly NodeView[]): MeshVerdict {
  const fitNow: NodeView[] = []
  const reasons: NodeReasons = {}
  let later = false
  for (const node of nodes) {
    const f = checkNode(task, node)
    if (f.fit === 'now') fitNow.push(node)
    else reasons[node.id] = f.reasons
    if (f.fit === 'later') later = true
  }
  const verdict = fitNow.length > 0 ? 'feasible' : later ? 'wait' : 'impossible'
  return { verdict, fitNow, reasons }
}

/** The verdict as an error to record on the task when nothing can ever run it. */
export function impossibleTaskError (task: PlacementTask, verdict: MeshVerdict): ImpossibleTaskError {
  const nodes = Object.keys(verdict.reasons).length
  return new ImpossibleTaskError(`no node of ${nodes} can ever run task ${task.id}`, { details: verdict.reasons })
}

/** Range checks on a task before it is auctioned; every problem at once. */
export function validateTask (task: Pick<PlacementTask, 'priority' | 'requirements' | 'work'>): void {
  const problems: string[] = []
  const r: TaskRequirements = task.requirements
  const count = (name: string, v: unknown): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) problems.push(`${name} must be a number >= 0`)
  }
  if (!Number.isInteger(task.priority) || task.priority < MIN_PRIORITY || task.priority > MAX_PRIORITY) problems.push(`priority must be an integer ${MIN_PRIORITY}-${MAX_PRIORITY}`)
  count('cpus', r.cpus)
  count('memoryMb', r.memoryMb)
  if (r.gpu !== null) {
    if (!Number.isInteger(r.gpu.count) || r.gpu.count < 1) problems.push('gpu.count must be an integer >= 1')
    count('gpu.minVramMb', r.gpu.minVramMb)
  }
  if (task.work !== undefined) {
    count('work.promptTokens', task.work.promptTokens)
    count('work.outputTokens', task.work.outputTokens)
  }
  if (problems.length > 0) throw new InvalidRequirementsError(`invalid task: ${problems.join('; ')}`, { details: problems })
}
