/** Models: the mesh's models, where each is loaded, tokens/s; a small chat through /v1/chat/completions. */
import { useState } from 'preact/hooks'
import { api } from '../api.js'
import { useMesh } from '../hooks.js'
import type { ModelCap } from '../types.js'

interface Message { role: 'user' | 'assistant', content: string }

function Chat ({ models }: { models: string[] }) {
  const [model, setModel] = useState('')
  const [input, setInput] = useState('')
  const [messages, setMessages] = useState<Message[]>([])
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  const chosen = model !== '' ? model : models[0] ?? ''
  const send = async (e: Event): Promise<void> => {
    e.preventDefault()
    const next: Message[] = [...messages, { role: 'user', content: input }]
    setMessages(next); setInput(''); setBusy(true); setError(undefined)
    try {
      const reply = await api<{ choices: Array<{ message: { content: string } }> }>('POST', '/v1/chat/completions', { model: chosen, messages: next, max_tokens: 256 })
      setMessages([...next, { role: 'assistant', content: reply.choices[0]?.message.content ?? '' }])
    } catch (err) {
      setError((err as Error).message)
    } finally { setBusy(false) }
  }
  if (models.length === 0) return <p class='muted'>No model in the mesh (<code>gryphgen model add</code>).</p>
  return (
    <section class='chat'>
      <h3>Chat</h3>
      <select value={chosen} onChange={e => { setModel((e.target as HTMLSelectElement).value) }}>{models.map(m => <option key={m}>{m}</option>)}</select>
      <div class='messages'>{messages.map((m, i) => <p key={i} class={m.role}><strong>{m.role}:</strong> {m.content}</p>)}</div>
      <form onSubmit={e => { void send(e) }}>
        <input value={input} placeholder='Ask the model' onInput={e => { setInput((e.target as HTMLInputElement).value) }} />
        <button type='submit' disabled={busy || input.trim() === ''}>{busy ? 'Waiting…' : 'Send'}</button>
      </form>
      {error !== undefined && <p class='error'>{error}</p>}
    </section>
  )
}

export function ModelsPage () {
  const mesh = useMesh(5000)
  const byModel = new Map<string, Array<{ node: string, model: ModelCap }>>()
  const nodes = [...(mesh.self === undefined ? [] : [{ peerId: mesh.self.peerId, caps: mesh.self.capabilities }]), ...mesh.peers.map(p => ({ peerId: p.peerId, caps: p.capabilities }))]
  for (const n of nodes) for (const m of n.caps.models) byModel.set(m.name, [...(byModel.get(m.name) ?? []), { node: n.caps.name, model: m }])
  const names = [...byModel.keys()].sort()
  return (
    <>
      <h2>Models</h2>
      <table>
        <thead><tr><th>model</th><th>on node</th><th>loaded</th><th>generation tok/s</th><th>prompt tok/s</th><th>size</th></tr></thead>
        <tbody>{names.flatMap(name => (byModel.get(name) ?? []).map(({ node, model }) => (
          <tr key={`${name}@${node}`} data-testid='model-row'><td>{name}</td><td>{node}</td><td>{model.loaded ? 'yes' : 'no'}</td>
            <td>{model.generationTokensPerSecond?.toFixed(1) ?? '—'}</td><td>{model.promptTokensPerSecond?.toFixed(1) ?? '—'}</td><td>{model.sizeMb !== undefined ? `${model.sizeMb} MB` : ''}{model.quantization !== undefined ? ` ${model.quantization}` : ''}</td></tr>
        )))}</tbody>
      </table>
      <Chat models={names} />
    </>
  )
}
