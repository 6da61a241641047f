/**
 * The gryphgen dashboard: a single-page app the node serves at GET /. Hash routes (#/mesh,
 * #/tasks, #/tasks/<id>, #/builds, #/builds/<id>, #/models, #/ledger); nothing shows but the
 * login until the node accepts a token. Every text from the API is rendered as text (Preact
 * escapes it; no raw HTML anywhere): node names and labels come from peers.
 */
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { takeTokenFromFragment, token, tokenWorks, whenUnauthorized } from './api.js'
import { MeshPage } from './pages/mesh.js'
import { TasksPage } from './pages/tasks.js'
import { TaskPage } from './pages/task.js'
import { BuildsPage, BuildPage } from './pages/builds.js'
import { ModelsPage } from './pages/models.js'
import { LedgerPage } from './pages/ledger.js'
import './style.css'

const PAGES = [['mesh', 'Mesh'], ['tasks', 'Tasks'], ['builds', 'Builds'], ['models', 'Models'], ['ledger', 'Ledger']] as const

function useRoute (): string[] {
  const read = (): string[] => location.hash.replace(/^#\/?/, '').split('/').filter(s => s !== '').map(decodeURIComponent)
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const on = (): void => { setRoute(read()) }
    addEventListener('hashchange', on)
    return () => { removeEventListener('hashchange', on) }
  }, [])
  return route
}

function Login ({ message, onDone }: { message: string | undefined, onDone: () => void }) {
  const [value, setValue] = useState('')
  const [error, setError] = useState(message)
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    try {
      if (await tokenWorks(value.trim())) { token.set(value.trim()); onDone() } else setError('Wrong token: this node refused it. Copy it again from <data-dir>/api-token on the node.')
    } catch (err) {
      setError(`Cannot reach the node: ${(err as Error).message}`)
    } finally { setBusy(false) }
  }
  return (
    <main class='login'>
      <h1>gryphgen</h1>
      <form onSubmit={e => { void submit(e) }}>
        <label for='token'>API token</label>
        <input id='token' name='token' type='password' autocomplete='off' value={value} onInput={e => { setValue((e.target as HTMLInputElement).value) }} />
        <button type='submit' disabled={busy || value.trim() === ''}>Sign in</button>
      </form>
      {error !== undefined && <p class='error' role='alert' data-testid='login-error'>{error}</p>}
      <p class='hint'>The token is in <code>&lt;data-dir&gt;/api-token</code> on the node (or open <code>/#token=…</code>). It stays in this tab only.</p>
    </main>
  )
}

function App () {
  const [state, setState] = useState<'checking' | 'in' | 'out'>(token.get() === null ? 'out' : 'checking')
  const [message, setMessage] = useState<string>()
  const route = useRoute()
  useEffect(() => {
    whenUnauthorized(() => { token.clear(); setMessage('Wrong token: this node refused it. Sign in again.'); setState('out') })
    const check = (): void => {
      const stored = token.get()
      if (stored === null) return
      setState('checking')
      tokenWorks(stored).then(ok => {
        if (ok) { setMessage(undefined); setState('in') } else { token.clear(); setMessage('Wrong token: this node refused it. Copy it again from <data-dir>/api-token on the node.'); setState('out') }
      }, (err: Error) => { setMessage(`Cannot reach the node: ${err.message}`); setState('out') })
    }
    check()
    // A link with #token=... opened in a tab that already shows the dashboard.
    const onHash = (): void => { if (takeTokenFromFragment()) { check(); dispatchEvent(new HashChangeEvent('hashchange')) } }
    addEventListener('hashchange', onHash)
    return () => { removeEventListener('hashchange', onHash) }
  }, [])
  if (state === 'checking') return <p class='loading'>Checking the token…</p>
  if (state === 'out') return <Login message={message} onDone={() => { setMessage(undefined); setState('in') }} />
  const [page = 'mesh', id] = route
  return (
    <>
      <nav>
        <strong>gryphgen</strong>
        {PAGES.map(([key, label]) => <a key={key} href={`#/${key}`} class={page === key ? 'active' : ''}>{label}</a>)}
        <button class='signout' onClick={() => { token.clear(); setState('out') }}>Sign out</button>
      </nav>
      <main>
        {page === 'mesh' && <MeshPage />}
        {page === 'tasks' && (id === undefined ? <TasksPage /> : <TaskPage id={id} />)}
        {page === 'builds' && (id === undefined ? <BuildsPage /> : <BuildPage id={id} />)}
        {page === 'models' && <ModelsPage />}
        {page === 'ledger' && <LedgerPage />}
      </main>
    </>
  )
}

takeTokenFromFragment()
render(<App />, document.getElementById('app') as HTMLElement)
