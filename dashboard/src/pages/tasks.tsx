/** Tasks: newest first, filtered by state, kind and label; live through the node's event stream; blocked reasons in words. */
import { useEffect, useState } from 'preact/hooks'
import { api, events } from '../api.js'
import { time, useMesh, type Mesh } from '../hooks.js'
import { STATES, type Task } from '../types.js'

/** The latest view of each task, kept current by GET /v1/events (every state change). */
export function useLiveTasks (query: string, keep: (t: Task) => boolean): { tasks: Task[], error: string | undefined } {
  const [byId, setById] = useState(new Map<string, Task>())
  const [error, setError] = useState<string>()
  useEffect(() => {
    const abort = new AbortController()
    const merge = (list: Task[]): void => {
      setById(old => {
        const next = new Map(old)
        for (const t of list) { const had = next.get(t.id); if (had === undefined || had.updatedAt <= t.updatedAt) next.set(t.id, t) }
        return next
      })
    }
    setById(new Map())
    const load = (): void => { api<{ tasks: Task[] }>('GET', `/v1/tasks?limit=200${query}`, undefined, abort.signal).then(r => { merge(r.tasks); setError(undefined) }, (err: Error) => { if (!abort.signal.aborted) setError(err.message) }) }
    // Stream first, then the list: a change between the two is not lost.
    const follow = (): void => {
      events('/v1/events', (name, data) => { if (name === 'state') merge([data as Task]) }, abort.signal)
        .catch(() => {}).finally(() => { if (!abort.signal.aborted) setTimeout(follow, 2000) })
    }
    follow()
    load()
    const timer = setInterval(load, 10_000)
    return () => { abort.abort(); clearInterval(timer) }
  }, [query])
  return { tasks: [...byId.values()].filter(keep).sort((a, b) => b.submittedAt.localeCompare(a.submittedAt)), error }
}

export function Blocked ({ task }: { task: Task }) {
  if (task.blocked === undefined || task.state !== 'pending') return null
  const b = task.blocked
  return (
    <div class='blocked' data-testid='blocked'>
      {b.verdict === 'impossible' ? 'No node can ever run it: ' : `Waiting (${b.nodes} nodes judged): `}
      {b.reasons.map((r, i) => <span key={i}>{i > 0 ? '; ' : ''}{r.reason} ({r.nodes} {r.nodes === 1 ? 'node' : 'nodes'})</span>)}
    </div>
  )
}

export const ranOn = (task: Task, mesh: Mesh): string => [...new Set(task.attempts.map(a => mesh.name(a.node)))].join(', ')

export function TaskRow ({ task, mesh, href }: { task: Task, mesh: Mesh, href: string }) {
  return (
    <tr data-testid='task-row' data-task={task.id}>
      <td><a href={href}>{task.id}</a></td>
      <td>{task.kind}</td>
      <td><span class={`state ${task.state}`} data-testid='task-state'>{task.state}</span><Blocked task={task} /></td>
      <td data-testid='task-node'>{ranOn(task, mesh)}</td>
      <td>{task.attempts.length}</td>
      <td>{time(task.submittedAt)}</td>
      <td>{time(task.updatedAt)}</td>
    </tr>
  )
}

export function TaskTable ({ tasks, mesh, base }: { tasks: Task[], mesh: Mesh, base: string }) {
  return (
    <div class='scroll'>
      <table>
        <thead><tr><th>task</th><th>kind</th><th>state</th><th>ran on</th><th>attempts</th><th>submitted</th><th>updated</th></tr></thead>
        <tbody>{tasks.map(t => <TaskRow key={t.id} task={t} mesh={mesh} href={`#/${base}/${encodeURIComponent(t.id)}`} />)}</tbody>
      </table>
    </div>
  )
}

export function TasksPage () {
  const mesh = useMesh()
  const [state, setState] = useState('')
  const [kind, setKind] = useState('')
  const [label, setLabel] = useState('')
  const { tasks, error } = useLiveTasks(state === '' ? '' : `&state=${state}`, t =>
    (state === '' || t.state === state) && (kind === '' || t.kind === kind) &&
    (label === '' || ((t.requirements.labels as string[] | undefined) ?? []).includes(label)))
  return (
    <>
      <h2>Tasks</h2>
      <div class='filters'>
        <label>state <select value={state} onChange={e => { setState((e.target as HTMLSelectElement).value) }}><option value=''>any</option>{STATES.map(s => <option key={s}>{s}</option>)}</select></label>
        <label>kind <input value={kind} placeholder='any' onInput={e => { setKind((e.target as HTMLInputElement).value.trim()) }} /></label>
        <label>label <input value={label} placeholder='any' onInput={e => { setLabel((e.target as HTMLInputElement).value.trim()) }} /></label>
      </div>
      {error !== undefined && <p class='error'>{error}</p>}
      <TaskTable tasks={tasks} mesh={mesh} base='tasks' />
    </>
  )
}
