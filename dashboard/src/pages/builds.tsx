/** Builds: build jobs; a job's checkpoints (test counts, decisions and reasons, files) and accept/reject feedback. */
import { useState } from 'preact/hooks'
import { api, blobText } from '../api.js'
import { time, useMesh, usePoll } from '../hooks.js'
import type { Checkpoint, Task } from '../types.js'
import { TaskTable, useLiveTasks } from './tasks.js'

export function BuildsPage () {
  const mesh = useMesh(5000)
  const { tasks, error } = useLiveTasks('', t => t.kind === 'build')
  return (
    <>
      <h2>Builds</h2>
      {error !== undefined && <p class='error'>{error}</p>}
      {tasks.length === 0 ? <p class='muted'>No build jobs yet (<code>gryphgen build</code> starts one).</p> : <TaskTable tasks={tasks} mesh={mesh} base='builds' />}
    </>
  )
}

interface Tests { passed?: number, failed?: number, errored?: number, total?: number, runner?: string }

function testCounts (summary: Record<string, unknown>): string {
  const t = summary.tests as Tests | null | undefined
  if (t === null || t === undefined) return 'did not run'
  return `${t.passed ?? 0} passed, ${t.failed ?? 0} failed${(t.errored ?? 0) > 0 ? `, ${t.errored} errored` : ''}${t.runner !== undefined ? ` (${t.runner})` : ''}`
}

function Files ({ files }: { files: Checkpoint['files'] }) {
  const [open, setOpen] = useState<{ path: string, text: string }>()
  const [error, setError] = useState<string>()
  const show = (path: string, digest: string): void => {
    blobText(digest).then(text => { setOpen({ path, text }); setError(undefined) }, (err: Error) => { setError(err.message) })
  }
  const paths = Object.keys(files)
  if (paths.length === 0) return <span class='muted'>no files</span>
  return (
    <div>
      {paths.map(p => <button key={p} class='link' data-testid='checkpoint-file' onClick={() => { show(p, files[p].digest) }}>{p} <span class='muted'>({files[p].size} B)</span></button>)}
      {error !== undefined && <p class='error'>{error}</p>}
      {open !== undefined && <div class='file'><div class='muted'>{open.path}</div><pre data-testid='file-content'>{open.text}</pre></div>}
    </div>
  )
}

function Feedback ({ task, onSent }: { task: Task, onSent: () => void }) {
  const [note, setNote] = useState('')
  const [error, setError] = useState<string>()
  const send = (verdict: 'accept' | 'reject'): void => {
    api('POST', `/v1/tasks/${encodeURIComponent(task.id)}/feedback`, { verdict, ...(note.trim() === '' ? {} : { note: note.trim() }) })
      .then(() => { setNote(''); setError(undefined); onSent() }, (err: Error) => { setError(err.message) })
  }
  return (
    <section>
      <h3>Feedback</h3>
      {(task.feedback ?? []).map((f, i) => <p key={i} data-testid='feedback'>{f.verdict} {f.note !== undefined ? `: ${f.note}` : ''} <span class='muted'>({time(f.at)})</span></p>)}
      <input placeholder='note (optional)' maxLength={2048} value={note} onInput={e => { setNote((e.target as HTMLInputElement).value) }} />
      <button onClick={() => { send('accept') }}>Accept</button> <button class='danger' onClick={() => { send('reject') }}>Reject</button>
      {error !== undefined && <p class='error'>{error}</p>}
    </section>
  )
}

export function BuildPage ({ id }: { id: string }) {
  const mesh = useMesh(5000)
  const { data: task, error, reload } = usePoll(async signal => api<Task>('GET', `/v1/tasks/${encodeURIComponent(id)}`, undefined, signal), 3000, [id])
  if (task === undefined) return <p class={error === undefined ? 'loading' : 'error'}>{error ?? 'Loading…'}</p>
  const result = task.result as { decision?: string, reason?: string } | undefined
  return (
    <>
      <h2>Build <code>{task.id}</code> <span class={`state ${task.state}`} data-testid='task-state'>{task.state}</span></h2>
      <p><a href={`#/tasks/${encodeURIComponent(task.id)}`}>task page (output, history)</a></p>
      {result?.decision !== undefined && <p data-testid='build-decision'><strong>{result.decision}</strong>: {result.reason}</p>}
      <h3>Checkpoints</h3>
      <table>
        <thead><tr><th>step</th><th>attempt</th><th>node</th><th>at</th><th>based on</th><th>tests</th><th>decision</th><th>files</th></tr></thead>
        <tbody>{(task.checkpoints ?? []).map(cp => {
          const decision = cp.summary.decision as { action?: string, reason?: string } | undefined
          return (
            <tr key={cp.step} data-testid='checkpoint'>
              <td>{cp.step}</td><td>{cp.attempt}</td><td>{mesh.name(cp.node)}</td><td>{time(cp.at)}</td><td>{cp.basedOn ?? '—'}</td>
              <td data-testid='checkpoint-tests'>{testCounts(cp.summary)}</td>
              <td><strong>{decision?.action ?? ''}</strong> <span class='reason'>{decision?.reason ?? ''}</span></td>
              <td><Files files={cp.files} /></td>
            </tr>
          )
        })}</tbody>
      </table>
      <Feedback task={task} onSent={reload} />
    </>
  )
}
