/** One task: its state and attempts, its output live (SSE), its result, its ledger history; cancel. */
import { useEffect, useState } from 'preact/hooks'
import { api, events } from '../api.js'
import { time, useMesh, usePoll } from '../hooks.js'
import { TERMINAL, type HistoryEntry, type Task } from '../types.js'
import { Blocked } from './tasks.js'

interface Output { lines: string[], text: string, progress: string | undefined }

/** The task's event stream: the latest view, log lines, generated text, progress. */
function useTaskStream (id: string): { task: Task | undefined, output: Output, error: string | undefined } {
  const [task, setTask] = useState<Task>()
  const [output, setOutput] = useState<Output>({ lines: [], text: '', progress: undefined })
  const [error, setError] = useState<string>()
  useEffect(() => {
    const abort = new AbortController()
    setOutput({ lines: [], text: '', progress: undefined })
    events(`/v1/tasks/${encodeURIComponent(id)}/events`, (name, data) => {
      const d = data as Record<string, unknown>
      if (name === 'state') setTask(data as Task)
      else if (name === 'log') setOutput(o => ({ ...o, lines: [...o.lines, `${String(d.stream)}: ${String(d.line)}`].slice(-2000) }))
      else if (name === 'token') setOutput(o => ({ ...o, text: o.text.slice(0, Number(d.offset)) + String(d.text) }))
      else if (name === 'progress') setOutput(o => ({ ...o, progress: `${String(d.stage)}${d.total !== undefined ? ` ${String(d.done ?? 0)}/${String(d.total)}` : ''}` }))
      else if (name === 'error') setError(String(d.message))
    }, abort.signal).catch((err: Error) => { if (!abort.signal.aborted) setError(err.message) })
    return () => { abort.abort() }
  }, [id])
  return { task, output, error }
}

function ResultView ({ task }: { task: Task }) {
  if (task.result === undefined && task.error === undefined) return null
  const r = task.result ?? {}
  return (
    <section>
      <h3>Result</h3>
      {task.error !== undefined && <p class='error'>{task.error}</p>}
      {typeof r.stdout === 'string' && r.stdout !== '' && <><h4>stdout</h4><pre data-testid='result-stdout'>{r.stdout}</pre></>}
      {typeof r.stderr === 'string' && r.stderr !== '' && <><h4>stderr</h4><pre>{r.stderr}</pre></>}
      <details><summary>all fields</summary><pre data-testid='result-json'>{JSON.stringify(r, null, 2)}</pre></details>
    </section>
  )
}

export function TaskPage ({ id }: { id: string }) {
  const mesh = useMesh(5000)
  const { task, output, error } = useTaskStream(id)
  const history = usePoll(async signal => api<{ entries: HistoryEntry[] }>('GET', `/v1/tasks/${encodeURIComponent(id)}/history`, undefined, signal), 5000, [id])
  const [cancelError, setCancelError] = useState<string>()
  const cancel = (): void => {
    api<Task>('DELETE', `/v1/tasks/${encodeURIComponent(id)}`).then(() => { setCancelError(undefined) }, (err: Error) => { setCancelError(err.message) })
  }
  if (task === undefined) return <p class={error === undefined ? 'loading' : 'error'}>{error ?? 'Loading…'}</p>
  return (
    <>
      <h2>Task <code>{task.id}</code> <span class={`state ${task.state}`} data-testid='task-state'>{task.state}</span></h2>
      <p>{task.kind} · priority {task.priority} · submitted {time(task.submittedAt)} · auctioneer {mesh.name(task.auctioneer)}</p>
      <Blocked task={task} />
      {!TERMINAL.includes(task.state) && <button class='danger' data-testid='cancel' onClick={cancel}>Cancel task</button>}
      {cancelError !== undefined && <p class='error'>{cancelError}</p>}
      <h3>Attempts</h3>
      <table>
        <thead><tr><th>#</th><th>node</th><th>awarded</th><th>started</th><th>ended</th><th>outcome</th></tr></thead>
        <tbody>{task.attempts.map(a => (
          <tr key={a.attempt}><td>{a.attempt}</td><td data-testid='attempt-node'>{mesh.name(a.node)}</td><td>{time(a.awardedAt)}</td><td>{time(a.startedAt)}</td><td>{time(a.endedAt)}</td><td>{a.outcome ?? ''}{a.error !== undefined ? `: ${a.error}` : ''}</td></tr>
        ))}</tbody>
      </table>
      <h3>Output {output.progress !== undefined && <span class='muted'>({output.progress})</span>}</h3>
      {output.lines.length === 0 && output.text === ''
        ? <p class='muted'>{TERMINAL.includes(task.state) ? 'Nothing streamed while this page was open (the result is below).' : 'Waiting for output…'}</p>
        : <pre class='output' data-testid='task-output'>{output.lines.join('\n')}{output.text}</pre>}
      <ResultView task={task} />
      <h3>History <span class='muted'>(ledger entries)</span></h3>
      <table>
        <thead><tr><th>time</th><th>type</th><th>author</th><th>seq</th><th>body</th></tr></thead>
        <tbody>{(history.data?.entries ?? []).map(e => (
          <tr key={e.id} data-testid='history-entry'><td>{new Date(e.hlc.wall).toLocaleTimeString()}</td><td>{e.type}</td><td>{mesh.name(e.author)}</td><td>{e.seq}</td><td><code class='body'>{JSON.stringify(e.body).slice(0, 300)}</code></td></tr>
        ))}</tbody>
      </table>
    </>
  )
}
