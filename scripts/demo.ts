/**
 * `npm run demo`: a 3-node mesh on this machine (loopback, mDNS off, data in a temp folder),
 * a few tasks submitted at one node, and where each ran. alpha is plain, beta has the label
 * `ci`, gamma declares a GPU (declared resources stand in for one). Everything started is
 * stopped and removed at the end. Exec tasks need the sandbox (bubblewrap; root or user
 * namespaces): `npm test`'s set-up installs it. Then a model: a tiny generated test model
 * (random weights: gibberish by design) is added to gamma's store, and a chat completion
 * sent to alpha's OpenAI-compatible endpoint runs on gamma. Last, the build loop: a scripted
 * model (it answers every prompt with one correct file: a stand-in for a real coding model)
 * on gamma, a specification and a pytest suite submitted at alpha; generation on gamma, the
 * checks and tests in a sandbox, one checkpoint, done.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { ModelStore, filesAnswerPieces, writeScriptedModel, writeTestModel } from '../models/index.js'
import { fileURLToPath } from 'node:url'
import { LocalMesh, api, type MeshNode } from './bench/mesh.js'

interface View { id: string, state: string, attempts: Array<{ node: string, startedAt?: string, endedAt?: string }>, result?: { stdout?: string, exitCode?: number | null }, error?: string, blocked?: { verdict: string, reasons: Array<{ reason: string, nodes: number }> } }

const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const sandbox = { cpus: 1, memoryMb: 64 }

async function waitUntil (check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) { if (await check()) return; await sleep(100) }
  throw new Error(`gave up after ${timeoutMs} ms`)
}

async function main (): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit', cwd: root })
  const mesh = new LocalMesh()
  const stop = (): void => { void mesh.stop().finally(() => process.exit(130)) }
  process.once('SIGINT', stop)
  try {
    console.log('starting 3 nodes (alpha, beta with label ci, gamma with a declared 24 GB GPU)...')
    const exec = { workers: { exec: { size: 1 } }, advert: { baseIntervalMs: 1000, maxReceiveRate: 20 } }
    const [alpha] = await mesh.start([
      { name: 'alpha', config: exec },
      { name: 'beta', config: { ...exec, labels: ['ci'] } },
      { name: 'gamma', config: { ...exec, resources: { gpus: [{ vendor: 'nvidia', model: 'Declared GPU', vramMb: 24_000 }] } } },
    ])
    await waitUntil(async () => (await api<{ peers: Array<{ capabilities: { sandbox: { available: boolean } | null } }> }>(alpha, 'GET', '/v1/peers')).peers.every(p => p.capabilities.sandbox?.available === true), 30_000)
    const name = (peerId?: string): string => mesh.byPeer(peerId ?? '')?.name ?? '-'
    const submit = async (label: string, body: Record<string, unknown>): Promise<{ label: string, id: string }> => ({ label, id: (await api<{ id: string }>(alpha, 'POST', '/v1/tasks', body)).id })

    console.log('submitting at alpha...')
    const tasks = [
      await submit('exec: uname -sm', { kind: 'exec', command: ['uname', '-sm'], requirements: sandbox }),
      await submit('noop needing a GPU >= 16 GB', { kind: 'noop', requirements: { gpu: { count: 1, minVramMb: 16_000 } } }),
      await submit('exec needing label ci', { kind: 'exec', command: ['sh', '-c', 'echo tests pass'], requirements: { ...sandbox, labels: ['ci'] } }),
      ...await Promise.all(Array.from({ length: 6 }, async (_, i) => submit(`exec sleep 1 (#${i + 1})`, { kind: 'exec', command: ['sleep', '1'], requirements: sandbox }))),
      await submit('priority 9: echo urgent', { kind: 'exec', priority: 9, command: ['echo', 'urgent'], requirements: sandbox }),
      await submit('noop needing 1 PB of memory', { kind: 'noop', requirements: { memoryMb: 1_000_000_000 } }),
    ]
    const views = new Map<string, View>()
    await waitUntil(async () => {
      for (const t of tasks) views.set(t.id, await api<View>(alpha, 'GET', `/v1/tasks/${t.id}`))
      return [...views.values()].every(v => ['succeeded', 'failed', 'cancelled'].includes(v.state) || v.blocked?.verdict === 'impossible')
    }, 60_000)
    console.log('\ntask                              state      node    ms     output')
    for (const t of tasks) {
      const v = views.get(t.id) as View
      const a = v.attempts[v.attempts.length - 1]
      const took = a?.startedAt !== undefined && a.endedAt !== undefined ? String(Date.parse(a.endedAt) - Date.parse(a.startedAt)) : '-'
      const out = v.blocked !== undefined ? `blocked (${v.blocked.verdict}): ${v.blocked.reasons[0]?.reason} on ${v.blocked.reasons[0]?.nodes} nodes` : (v.result?.stdout ?? '').trim()
      console.log(`${t.label.padEnd(34)}${v.state.padEnd(11)}${name(a?.node).padEnd(8)}${took.padEnd(7)}${out}`)
    }
    await api(alpha, 'DELETE', `/v1/tasks/${tasks[tasks.length - 1].id}`)
    console.log('\n(the impossible task stays pending until a node can run it; the demo cancelled it)')
    printSpread(tasks.slice(3, 9).map(t => views.get(t.id) as View), name)
    await modelDemo(alpha, mesh.nodes[2], name)
    await buildDemo(alpha, mesh.nodes[2], name)
  } finally {
    await mesh.stop()
  }
}

/** A model added to one node's store, used through another node's OpenAI-compatible API. */
async function modelDemo (asked: MeshNode, holder: MeshNode, name: (id?: string) => string): Promise<void> {
  const file = join(holder.dir, 'demo-tiny.gguf')
  await writeTestModel({ path: file, seed: 1 })
  await (await ModelStore.open({ dataDir: holder.dir })).add(file, { name: 'demo-tiny' })
  console.log(`\nadded the model demo-tiny to ${holder.name}'s store (as \`gryphgen model add\` does); asking ${asked.name}...`)
  await waitUntil(async () => (await api<{ data: Array<{ id: string }> }>(asked, 'GET', '/v1/models')).data.some(m => m.id === 'demo-tiny'), 30_000)
  const res = await fetch(`${asked.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${asked.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'demo-tiny', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 12, seed: 1 }),
  })
  const reply = await res.json() as { choices: Array<{ message: { content: string } }>, usage: { completion_tokens: number } }
  const task = await api<View>(asked, 'GET', `/v1/tasks/${res.headers.get('x-gryphgen-task') ?? ''}`)
  console.log(`POST ${asked.name}/v1/chat/completions -> ${res.status}, ${reply.usage.completion_tokens} tokens generated on ${name(task.attempts.at(-1)?.node)}: ${JSON.stringify(reply.choices[0].message.content)} (gibberish by design)`)
}

const FIZZBUZZ = 'def fizzbuzz(n):\n    if n % 15 == 0:\n        return "FizzBuzz"\n    if n % 3 == 0:\n        return "Fizz"\n    if n % 5 == 0:\n        return "Buzz"\n    return str(n)\n'
const FIZZBUZZ_TESTS = 'from fizzbuzz import fizzbuzz\n\ndef test_numbers(): assert fizzbuzz(1) == "1"\ndef test_fizz(): assert fizzbuzz(9) == "Fizz"\ndef test_buzz(): assert fizzbuzz(10) == "Buzz"\ndef test_fizzbuzz(): assert fizzbuzz(30) == "FizzBuzz"\n'

/** A build job end to end, with a scripted model standing in for a real one. */
async function buildDemo (asked: MeshNode, holder: MeshNode, name: (id?: string) => string): Promise<void> {
  const file = join(holder.dir, 'demo-coder.gguf')
  await writeScriptedModel({ path: file, pieces: filesAnswerPieces({ 'fizzbuzz.py': FIZZBUZZ }) })
  await (await ModelStore.open({ dataDir: holder.dir })).add(file, { name: 'demo-coder' })
  await waitUntil(async () => (await api<{ data: Array<{ id: string }> }>(asked, 'GET', '/v1/models')).data.some(m => m.id === 'demo-coder'), 30_000)
  console.log(`
build: a specification and a pytest suite, submitted at ${asked.name}; the model demo-coder on ${holder.name} is scripted (it always answers with a correct fizzbuzz.py: a stand-in for a real coding model)`)
  const { id } = await api<{ id: string }>(asked, 'POST', '/v1/tasks', {
    kind: 'build',
    specification: 'Write fizzbuzz.py with fizzbuzz(n): "Fizz" for multiples of 3, "Buzz" for multiples of 5, "FizzBuzz" for both, else str(n).',
    tests: { files: { 'test_fizzbuzz.py': FIZZBUZZ_TESTS }, command: ['python3', '-m', 'pytest', '-q', '-rfE', '-p', 'no:cacheprovider'] },
    language: 'python',
    model: 'demo-coder',
    budget: { maxAttempts: 3 },
  })
  type BuildView = View & { kind: string, submittedAt: string, result?: { decision: string, reason: string, files?: Record<string, { digest: string }> }, checkpoints?: Array<{ step: number, node: string, summary: { tests?: { passed: number, failed: number } | null, decision?: { action: string } } }> }
  let view: BuildView | undefined
  await waitUntil(async () => { view = await api<BuildView>(asked, 'GET', `/v1/tasks/${id}`); return ['succeeded', 'failed', 'cancelled'].includes(view.state) }, 120_000)
  const done = view as BuildView
  const steps = (await api<{ tasks: BuildView[] }>(asked, 'GET', '/v1/tasks?limit=50')).tasks.filter(t => t.id !== id && t.submittedAt >= done.submittedAt)
  console.log(`steps: ${steps.reverse().map(t => `${t.kind} on ${name(t.attempts.at(-1)?.node)}`).join(', ')}`)
  for (const c of done.checkpoints ?? []) console.log(`checkpoint ${c.step} by ${name(c.node)}: tests ${c.summary.tests?.passed ?? 0}/${(c.summary.tests?.passed ?? 0) + (c.summary.tests?.failed ?? 0)} passed; ${c.summary.decision?.action ?? ''}`)
  console.log(`${done.state}: ${done.result?.decision ?? ''}: ${done.result?.reason ?? done.error ?? ''}; files: ${Object.keys(done.result?.files ?? {}).join(', ')}`)
}

function printSpread (views: View[], name: (id: string) => string): void {
  const per = new Map<string, number>()
  for (const v of views) { const n = name(v.attempts[v.attempts.length - 1]?.node); per.set(n, (per.get(n) ?? 0) + 1) }
  console.log(`the 6 sleep tasks spread by load: ${[...per].map(([n, c]) => `${n} ${c}`).join(', ')}`)
}

main().catch(err => { console.error(err); process.exitCode = 1 })

