/**
 * LevelDB layout of the ledger (all under one parent sublevel, written in atomic batches):
 *   log      `<author>!<seq:12>`  -> { id, entry }     each author's chain, for range sync
 *   ids      `<id>`               -> `<author>!<seq>`   entry lookup by id
 *   heads    `<author>`           -> { seq, id }        version vector (contiguous heads)
 *   tasks    `<task>`             -> { entries, state } a task's entries and folded state
 *   bystate  `<state>!<task>`     -> ''                 query by state
 *   recent   `<hlc>!<task>`       -> ''                 query most recent (by submission)
 *   evidence `<author>!<seq:12>!<id>` -> entry          equivocation evidence, kept
 */
import type { AbstractSublevel } from 'abstract-level'
import type { ClassicLevel } from 'classic-level'
import type { Entry } from '../protocols/ledger.js'
import { foldTask, canonicalOrder, type TaskState } from './fold.js'
import { hlcKey } from './hlc.js'

type Sub = AbstractSublevel<ClassicLevel<string, string>, string | Buffer | Uint8Array, string, string>
export interface Head { seq: number, id: string }
export interface Stored { id: string, entry: Entry }
interface TaskRecord { entries: Stored[], state: TaskState | null }
export type BatchOp = { type: 'put', sublevel: Sub, key: string, value: string } | { type: 'del', sublevel: Sub, key: string }

export const seqKey = (author: string, seq: number): string => `${author}!${String(seq).padStart(12, '0')}`

export class LedgerStore {
  readonly root: ClassicLevel<string, string>
  readonly #log: Sub
  readonly #ids: Sub
  readonly #heads: Sub
  readonly #tasks: Sub
  readonly #bystate: Sub
  readonly #recent: Sub
  readonly #evidence: Sub
  /** Writes built but not yet committed (a write group in progress): later jobs of the group read through these. */
  readonly #pendingLog = new Map<string, Stored>()
  readonly #pendingTasks = new Map<string, TaskRecord>()

  constructor (db: ClassicLevel<string, string>) {
    this.root = db
    const ledger = db.sublevel<string, string>('ledger', { valueEncoding: 'utf8' })
    const sub = (name: string): Sub => ledger.sublevel<string, string>(name, { valueEncoding: 'utf8' }) as unknown as Sub
    this.#log = sub('log'); this.#ids = sub('ids'); this.#heads = sub('heads'); this.#tasks = sub('tasks')
    this.#bystate = sub('bystate'); this.#recent = sub('recent'); this.#evidence = sub('evidence')
  }

  async loadHeads (): Promise<Map<string, Head>> {
    const heads = new Map<string, Head>()
    for await (const [author, value] of this.#heads.iterator()) heads.set(author, JSON.parse(value) as Head)
    return heads
  }

  async idAt (author: string, seq: number): Promise<string | undefined> {
    const pending = this.#pendingLog.get(seqKey(author, seq))
    if (pending !== undefined) return pending.id
    const value = await this.#log.get(seqKey(author, seq))
    return value === undefined ? undefined : (JSON.parse(value) as Stored).id
  }

  async hasId (id: string): Promise<boolean> {
    return (await this.#ids.get(id)) !== undefined
  }

  /** Entries of `author` from `fromSeq` up to `toSeq`, in order, `limit` at most. */
  async range (author: string, fromSeq: number, toSeq: number, limit: number): Promise<Stored[]> {
    const out: Stored[] = []
    for await (const value of this.#log.values({ gte: seqKey(author, fromSeq), lte: seqKey(author, toSeq), limit })) {
      out.push(JSON.parse(value) as Stored)
    }
    return out
  }

  async task (id: string): Promise<TaskRecord | undefined> {
    const value = await this.#tasks.get(id)
    return value === undefined ? undefined : JSON.parse(value) as TaskRecord
  }

  async tasksByState (state: string, limit: number): Promise<string[]> {
    const out: string[] = []
    for await (const key of this.#bystate.keys({ gt: `${state}!`, lt: `${state}!\xff`, limit })) out.push(key.slice(state.length + 1))
    return out
  }

  async recentTasks (limit: number): Promise<string[]> {
    const out: string[] = []
    for await (const key of this.#recent.keys({ reverse: true, limit })) out.push(key.slice(key.indexOf('!') + 1))
    return out
  }

  evidenceOps (first: Stored, second: Stored): BatchOp[] {
    return [first, second].map(s => ({ type: 'put', sublevel: this.#evidence, key: `${seqKey(s.entry.author, s.entry.seq)}!${s.id}`, value: JSON.stringify(s.entry) }))
  }

  async evidence (): Promise<Entry[]> {
    const out: Entry[] = []
    for await (const value of this.#evidence.values({ limit: 10_000 })) out.push(JSON.parse(value) as Entry)
    return out
  }

  /**
   * Operations that append verified, chain-contiguous entries and refresh the state of every
   * task they touch. Returns the ops and the new task states.
   */
  async appendOps (items: readonly Stored[], heads: ReadonlyMap<string, Head>): Promise<{ ops: BatchOp[], states: TaskState[] }> {
    const ops: BatchOp[] = []
    const byTask = new Map<string, Stored[]>()
    for (const item of items) {
      const key = seqKey(item.entry.author, item.entry.seq)
      ops.push({ type: 'put', sublevel: this.#log, key, value: JSON.stringify(item) })
      this.#pendingLog.set(key, item)
      ops.push({ type: 'put', sublevel: this.#ids, key: item.id, value: key })
      byTask.set(item.entry.task, [...byTask.get(item.entry.task) ?? [], item])
    }
    for (const [author, head] of heads) ops.push({ type: 'put', sublevel: this.#heads, key: author, value: JSON.stringify(head) })
    const taskIds = [...byTask.keys()]
    const existing = await this.#tasks.getMany(taskIds)
    const states: TaskState[] = []
    taskIds.forEach((taskId, i) => {
      const before = this.#pendingTasks.get(taskId) ?? (existing[i] === undefined ? undefined : JSON.parse(existing[i] as string) as TaskRecord)
      const entries = [...before?.entries ?? [], ...byTask.get(taskId) ?? []].sort((a, b) => canonicalOrder(a.entry, b.entry))
      const state = foldTask(entries) ?? null
      this.#pendingTasks.set(taskId, { entries, state })
      ops.push({ type: 'put', sublevel: this.#tasks, key: taskId, value: JSON.stringify({ entries, state } satisfies TaskRecord) })
      if (before?.state != null && before.state.state !== state?.state) ops.push({ type: 'del', sublevel: this.#bystate, key: `${before.state.state}!${taskId}` })
      if (state !== null) {
        ops.push({ type: 'put', sublevel: this.#bystate, key: `${state.state}!${taskId}`, value: '' })
        if (before?.state == null) {
          const submitted = entries.find(e => e.entry.type === 'submitted')
          if (submitted !== undefined) ops.push({ type: 'put', sublevel: this.#recent, key: `${hlcKey(submitted.entry.hlc)}!${taskId}`, value: '' })
        }
        states.push(state)
      }
    })
    return { ops, states }
  }

  /** Commit a group's ops; the overlay of uncommitted writes is dropped either way. */
  async write (ops: BatchOp[], sync: boolean): Promise<void> {
    try {
      await this.root.batch(ops as never, { sync } as never)
    } finally {
      this.#pendingLog.clear()
      this.#pendingTasks.clear()
    }
  }
}
