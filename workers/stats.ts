/**
 * What the pool reports about itself (`stats()`, `workers()`): plain JSON for the node's API.
 * Pure: built from the broker's sessions, the supervisor's children and the dispatcher's load.
 */
import Type from 'typebox'
import { WORKER_KINDS, type WorkerKind } from '../protocols/index.js'
import type { BrokerCounters, WorkerSession } from './broker.js'
import type { KindLoad } from './dispatch.js'
import type { ChildInfo } from './supervisor.js'
import type { TaskCounters } from './tasks.js'

const Count = Type.Integer({ minimum: 0 })
const Kind = Type.Enum(WORKER_KINDS)

export const PoolStateSchema = Type.Enum(['idle', 'starting', 'running', 'draining', 'stopping', 'stopped'])

export const KindStatsSchema = Type.Object({
  queued: Count,
  running: Count,
  idle: Type.Integer({ minimum: 0, description: 'ready workers running nothing' }),
  workers: Type.Integer({ minimum: 0, description: 'ready workers, spawned and external' }),
  capacity: Type.Integer({ minimum: 0, description: 'slots of the ready workers together' }),
  completed: Count,
  failed: Count,
  cancelled: Count,
  lost: Type.Integer({ minimum: 0, description: 'tasks ended by a lost worker or cut off by stop' }),
  size: Type.Integer({ minimum: 0, description: 'worker processes the pool keeps for this kind' }),
  starting: Type.Integer({ minimum: 0, description: 'spawned processes not ready yet' }),
  external: Type.Integer({ minimum: 0, description: 'ready workers attached by hand' }),
  restarts: Type.Integer({ minimum: 0, description: 'spawned workers replaced' }),
}, { additionalProperties: false })

/** For the node API's `GET /v1/node` (`workers`). */
export const WorkerPoolStatsSchema = Type.Object({
  state: PoolStateSchema,
  endpoint: Type.String(),
  kinds: Type.Object({ exec: KindStatsSchema, model: KindStatsSchema }, { additionalProperties: false }),
  frames: Type.Object({
    malformedFrames: Count,
    unauthorized: Count,
    unknownPeerMessages: Count,
    unexpectedResults: Count,
  }, { additionalProperties: false, description: 'frames the broker refused or ignored' }),
}, { additionalProperties: false })

export const WorkerInfoSchema = Type.Object({
  id: Type.String(),
  kind: Kind,
  pid: Count,
  spawned: Type.Boolean(),
  state: Type.Enum(['joining', 'joined', 'ready'], { description: 'joining: spawned, no HELLO yet; joined: no READY yet; ready: takes tasks' }),
  slots: Count,
  running: Count,
  malformedFrames: Count,
}, { additionalProperties: false })

export type PoolState = Type.Static<typeof PoolStateSchema>
export type KindStats = Type.Static<typeof KindStatsSchema>
export type WorkerPoolStats = Type.Static<typeof WorkerPoolStatsSchema>
export type WorkerInfo = Type.Static<typeof WorkerInfoSchema>

export interface StatsSources {
  state: PoolState
  endpoint: string
  load: (kind: WorkerKind) => KindLoad
  tasks: (kind: WorkerKind) => TaskCounters
  sizes: (kind: WorkerKind) => number
  restarts: (kind: WorkerKind) => number
  sessions: WorkerSession[]
  children: ChildInfo[]
  frames: BrokerCounters & { unexpectedResults: number }
}

export function poolStats (sources: StatsSources): WorkerPoolStats {
  const kind = (k: WorkerKind): KindStats & KindLoad & TaskCounters => {
    const ready = sources.sessions.filter(s => s.kind === k && s.ready)
    const readyIds = new Set(ready.map(s => s.id))
    return {
      ...sources.load(k),
      ...sources.tasks(k),
      size: sources.sizes(k),
      starting: sources.children.filter(c => c.kind === k && !readyIds.has(c.workerId)).length,
      external: ready.filter(s => !s.spawned).length,
      restarts: sources.restarts(k),
    }
  }
  return {
    state: sources.state,
    endpoint: sources.endpoint,
    kinds: Object.fromEntries(WORKER_KINDS.map(k => [k, kind(k)])) as Record<WorkerKind, KindStats>,
    frames: { ...sources.frames },
  }
}

export function describeWorkers (sessions: WorkerSession[], children: ChildInfo[], running: (id: string) => number): WorkerInfo[] {
  const joined = new Set(sessions.map(s => s.id))
  return [
    ...sessions.map(s => ({
      id: s.id, kind: s.kind, pid: s.pid, spawned: s.spawned, state: s.ready ? 'ready' as const : 'joined' as const,
      slots: s.slots, running: running(s.id), malformedFrames: s.malformedFrames,
    })),
    ...children.filter(c => !joined.has(c.workerId)).map(c => ({
      id: c.workerId, kind: c.kind, pid: c.pid, spawned: true, state: 'joining' as const, slots: 0, running: 0, malformedFrames: 0,
    })),
  ].sort((a, b) => a.id.localeCompare(b.id))
}
