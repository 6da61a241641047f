/**
 * Build pipeline benchmark (issue 8). One command: `npm run bench:pipeline`. On a 3-process
 * loopback mesh (a model node with the generated test model, two sandbox nodes labelled
 * `coordinator`), runs K `build` tasks of a small Python spec and pytest suite, each for
 * N attempts (the test model writes gibberish: every build gives up when its attempts are
 * spent, so every attempt runs all its steps). For each attempt (one `checkpoint` entry):
 *  - attempt wall: the previous checkpoint's time (or the build's start) to this one's;
 *  - model time: the `result.timings.totalMs` of its `generate` and `analyze` steps;
 *  - sandbox time: the `usage.wallMs` of its `exec` steps (static checks and tests);
 *  - overhead = wall - model time (scheduling, sandbox, blobs, ledger): p50 and p90, and
 *    overhead - sandbox time (scheduling and ledger alone);
 *  - per step, p50 of submit -> end (the steps' own ledger times) and of its part outside
 *    the model or sandbox; the coordinator's time between steps; the checkpoint's write.
 * Baseline, measured in the same run on the same mesh: the same steps submitted directly by
 * a client at a coordinator node, submit -> end event (`noop` for each model step, since
 * model time is excluded; the static check's and the test suite's `exec` with the same files
 * and commands), summed over each attempt's steps; printed with the ratio overhead / baseline.
 * There is no numeric target for this figure in the issue.
 * Retrieval (the issue's other figure) is its own command: `node --import tsx
 * scripts/bench-retrieval.ts` (it has no quick mode; `--chunks`/`--queries` shrink it).
 * Flags: --builds K (default 3), --attempts N (default 4), --samples N (baseline samples per
 * kind, default 10). Loopback only, mDNS off, every process stopped by PID, every loop
 * bounded by count and by time.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ModelStore, writeTestModel } from '../models/index.js'
import { staticCheckCommands } from '../pipeline/core/index.js'
import type { TaskViewT } from '../protocols/task.js'
import { LocalMesh, api, followEvents, until, type MeshNode, type StateEvent } from './bench/mesh.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values } = parseArgs({ options: { builds: { type: 'string', default: '3' }, attempts: { type: 'string', default: '4' }, samples: { type: 'string', default: '10' } } })
const BUILDS = Number(values.builds)
const ATTEMPTS = Number(values.attempts)
const SAMPLES = Number(values.samples)
const MODEL = 'bench-coder'
const BUILD_TIMEOUT_MS = 240_000
const DEADLINE = Date.now() + 15 * 60_000
const TERMINAL = ['succeeded', 'failed', 'cancelled']

const pct = (xs: number[], p: number): number => xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]
const sum = (xs: number[]): number => xs.reduce((n, x) => n + x, 0)
const fmt = (x: number): string => Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-'
const time = (iso: string | undefined): number => iso === undefined ? NaN : Date.parse(iso)

const TESTS = { 'test_add.py': 'from add import add\n\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_negative():\n    assert add(-1, 1) == 0\n' }
const TEST_COMMAND = ['python3', '-m', 'pytest', '-q', '-rfE', '-p', 'no:cacheprovider']
const STARTING = { 'add.py': 'def add(a, b):\n    raise NotImplementedError\n' }
const BUILD = {
  kind: 'build',
  specification: 'Write add.py with a function add(a, b) that returns the sum of a and b.',
  files: STARTING,
  tests: { files: TESTS, command: TEST_COMMAND },
  language: 'python',
  model: MODEL,
  budget: { maxAttempts: ATTEMPTS, maxWallMs: BUILD_TIMEOUT_MS },
  requirements: { labels: ['coordinator'] },
  // The test model writes gibberish whose strings rarely end: short bounds make its answers complete files.
  generation: { temperature: 1, maxFileChars: 24, maxPathChars: 12 },
}

/** Terminal state events seen by this client, by node and task: when each arrived. */
const endedAt = new Map<string, number>()
const endWaiters = new Map<string, () => void>()
const onStateAt = (node: MeshNode) => (e: StateEvent): void => {
  const key = `${node.name} ${e.id}`
  if (!TERMINAL.includes(e.state) || endedAt.has(key)) return
  endedAt.set(key, performance.now())
  endWaiters.get(key)?.()
}
/** When `node` (the one it was submitted at: its ledger has the outcome then) saw task `id` end. */
async function ended (node: MeshNode, id: string, timeoutMs: number): Promise<number> {
  const key = `${node.name} ${id}`
  const at = endedAt.get(key)
  if (at !== undefined) return at
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { endWaiters.delete(key); reject(new Error(`task ${id} did not end at ${node.name} in ${timeoutMs} ms`)) }, timeoutMs)
    endWaiters.set(key, () => { clearTimeout(t); endWaiters.delete(key); resolve(endedAt.get(key) as number) })
  })
}

/** Submit -> end event at the submitting node, as a client sees it; and the task's view. */
async function roundTrip (node: MeshNode, body: Record<string, unknown>): Promise<{ ms: number, view: TaskViewT }> {
  const t0 = performance.now()
  const { id } = await api<{ id: string }>(node, 'POST', '/v1/tasks', body)
  const at = await ended(node, id, 60_000)
  const view = await api<TaskViewT>(node, 'GET', `/v1/tasks/${id}`)
  if (view.state === 'cancelled' || (view.state === 'failed' && body.kind !== 'exec')) throw new Error(`${String(body.kind)} task ${id} ${view.state}: ${view.error ?? ''}`)
  return { ms: at - t0, view }
}

type Role = 'generate' | 'static' | 'review' | 'test'
interface Step { role: Role, e2eMs: number, innerMs: number, measured: boolean }
interface Attempt { wallMs: number, loopWallMs: number, modelMs: number, sandboxMs: number, steps: Step[] }

function roleOf (t: TaskViewT): Role | undefined {
  if (t.kind === 'generate') return 'generate'
  if (t.kind === 'analyze') return 'review'
  if (t.kind !== 'exec') return undefined
  // A view has no command: steps.ts asks 256 MB for a static check and 512 MB for the tests.
  return t.requirements.memoryMb === 256 ? 'static' : 'test'
}
/**
 * The model worker's own time. A review whose answer was cut off (the test model's gibberish
 * fills maxTokens) fails with AnalysisOutputError and its result keeps no timings: then the
 * run's started -> ended on the model node stands for it (it includes the runner's own
 * small share, so the overhead is if anything understated).
 */
function modelMsOf (t: TaskViewT): { ms: number, measured: boolean } {
  const total = (t.result?.timings as { totalMs?: number } | undefined)?.totalMs
  if (total !== undefined) return { ms: total, measured: true }
  const run = t.attempts.at(-1)
  return { ms: time(run?.endedAt) - time(run?.startedAt ?? run?.awardedAt), measured: false }
}
const sandboxMsOf = (t: TaskViewT): number => (t.result?.usage as { wallMs?: number } | undefined)?.wallMs ?? 0

/** The build's attempts, each with the steps submitted between its start and its checkpoint. */
function attemptsOf (build: TaskViewT, tasks: TaskViewT[]): Attempt[] {
  // A build runs on no worker, so it has no `started` entry: its award is when it begins.
  const start = time(build.attempts[0]?.startedAt ?? build.attempts[0]?.awardedAt ?? build.submittedAt)
  const checkpoints = [...build.checkpoints ?? []].sort((a, b) => a.step - b.step)
  const out: Attempt[] = []
  let from = start
  for (const cp of checkpoints) {
    const to = time(cp.at)
    const inWindow = tasks.filter(t => t.id !== build.id && time(t.submittedAt) >= from && time(t.submittedAt) <= to)
    const steps = inWindow.sort((a, b) => time(a.submittedAt) - time(b.submittedAt)).flatMap((t): Step[] => {
      const role = roleOf(t)
      if (role === undefined) return []
      const inner = role === 'generate' || role === 'review' ? modelMsOf(t) : { ms: sandboxMsOf(t), measured: true }
      return [{ role, e2eMs: time(t.attempts.at(-1)?.endedAt ?? t.updatedAt) - time(t.submittedAt), innerMs: inner.ms, measured: inner.measured }]
    })
    const modelMs = sum(steps.filter(s => s.role === 'generate' || s.role === 'review').map(s => s.innerMs))
    const sandboxMs = sum(steps.filter(s => s.role === 'static' || s.role === 'test').map(s => s.innerMs))
    out.push({ wallMs: to - from, loopWallMs: (cp.summary.wallMs as number | undefined) ?? NaN, modelMs, sandboxMs, steps })
    from = to
  }
  return out
}

async function setUp (mesh: LocalMesh): Promise<MeshNode[]> {
  const sandboxNode = { workers: { exec: { size: 1 } }, labels: ['coordinator'] }
  const nodes = await mesh.start([
    { name: 'model', config: { workers: { exec: { size: 0 } }, models: { threads: 1, contextSize: 4096 } } },
    { name: 'sandbox-1', config: sandboxNode },
    { name: 'sandbox-2', config: sandboxNode },
  ])
  const file = join(nodes[0].dir, '..', 'coder.gguf')
  await writeTestModel({ path: file, seed: 5, contextLength: 4096 })
  await (await ModelStore.open({ dataDir: nodes[0].dir })).add(file, { name: MODEL })
  await until(async () => {
    for (const n of nodes) if (!(await api<{ data: Array<{ id: string }> }>(n, 'GET', '/v1/models')).data.some(m => m.id === MODEL)) return undefined
    const peers = await api<{ peers: Array<{ capabilities: { sandbox: { available?: boolean } | null } }> }>(nodes[0], 'GET', '/v1/peers')
    return peers.peers.filter(p => p.capabilities.sandbox?.available === true).length >= 2 ? true : undefined
  }, 60_000, 200)
  return nodes
}

interface Baseline { noop: number[], generateOverhead: number[], static: number[], test: number[], staticSandbox: number[], testSandbox: number[] }

/** The same kinds of step, submitted directly by this client at a coordinator node. */
async function baseline (at: MeshNode): Promise<Baseline> {
  const b: Baseline = { noop: [], generateOverhead: [], static: [], test: [], staticSandbox: [], testSandbox: [] }
  const files = { 'add.py': 'def add(a, b):\n    return a + b\n' }
  const staticCommand = staticCheckCommands('python', files).checks[0].command
  const exec = (command: string[], withTests: boolean): Record<string, unknown> => ({ kind: 'exec', command, files: withTests ? { ...files, ...TESTS } : files, limits: { timeoutMs: 60_000, outputBytes: 1024 * 1024 }, requirements: { cpus: 1, memoryMb: withTests ? 512 : 256 } })
  for (let i = 0; i < SAMPLES && Date.now() < DEADLINE; i++) {
    b.noop.push((await roundTrip(at, { kind: 'noop' })).ms)
    const g = await roundTrip(at, { kind: 'generate', model: MODEL, prompt: 'def add(a, b):', maxTokens: 8, seed: i })
    b.generateOverhead.push(g.ms - modelMsOf(g.view).ms)
    const s = await roundTrip(at, exec(staticCommand, false))
    b.static.push(s.ms)
    b.staticSandbox.push(sandboxMsOf(s.view))
    const t = await roundTrip(at, exec(TEST_COMMAND, true))
    b.test.push(t.ms)
    b.testSandbox.push(sandboxMsOf(t.view))
  }
  return b
}

async function runBuilds (nodes: MeshNode[], submitAt: MeshNode): Promise<{ attempts: Attempt[], outcomes: string[] }> {
  const attempts: Attempt[] = []
  const outcomes: string[] = []
  for (let k = 0; k < BUILDS && Date.now() < DEADLINE; k++) {
    const { id } = await api<{ id: string }>(submitAt, 'POST', '/v1/tasks', BUILD)
    const view = await until(async () => {
      const v = await api<TaskViewT>(submitAt, 'GET', `/v1/tasks/${id}`)
      return TERMINAL.includes(v.state) ? v : undefined
    }, BUILD_TIMEOUT_MS + 30_000, 250)
    // Read the steps where they were awaited: the coordinator's ledger.
    const coordinator = nodes.find(n => n.peerId === view.attempts.at(-1)?.node) ?? submitAt
    const build = await api<TaskViewT>(coordinator, 'GET', `/v1/tasks/${id}`)
    const { tasks } = await api<{ tasks: TaskViewT[] }>(coordinator, 'GET', '/v1/tasks?limit=1000')
    const mine = attemptsOf(build, tasks)
    attempts.push(...mine)
    const result = build.result as { decision?: string, reason?: string } | undefined
    outcomes.push(`build ${k + 1}: ${build.state}, ${mine.length} attempts, ${result?.decision ?? '?'} (${result?.reason ?? build.error ?? ''}); coordinator ${coordinator.name}; steps per attempt ${mine.map(a => a.steps.map(s => s.role[0]).join('')).join(' ')}`)
  }
  return { attempts, outcomes }
}

function report (attempts: Attempt[], b: Baseline, outcomes: string[]): void {
  const line = (label: string, xs: number[], extra = ''): void => { console.log(`  ${label.padEnd(54)} p50 ${fmt(pct(xs, 0.5)).padStart(8)}   p90 ${fmt(pct(xs, 0.9)).padStart(8)}${extra}`) }
  for (const o of outcomes) console.log(o)
  const overhead = attempts.map(a => a.wallMs - a.modelMs)
  const scheduling = attempts.map(a => a.wallMs - a.modelMs - a.sandboxMs)
  console.log(`\nper attempt (${attempts.length} attempts over ${outcomes.length} builds, 3-process loopback mesh)`)
  line('attempt wall (checkpoint to checkpoint)', attempts.map(a => a.wallMs))
  line('model time (generate + review, worker totalMs)', attempts.map(a => a.modelMs))
  line('sandbox time (static check + tests, usage.wallMs)', attempts.map(a => a.sandboxMs))
  line('OVERHEAD: wall - model time', overhead)
  line('  of which outside the sandbox (scheduling, ledger)', scheduling)
  line('  checkpoint write (blobs + ledger entry)', attempts.map(a => a.wallMs - a.loopWallMs))
  line('  coordinator between steps (prompt, submit, notice)', attempts.map(a => a.loopWallMs - sum(a.steps.map(s => s.e2eMs))))

  console.log('\nper step (submit -> end, by the steps\' ledger times)')
  for (const role of ['generate', 'static', 'review', 'test'] as const) {
    const steps = attempts.flatMap(a => a.steps.filter(s => s.role === role))
    if (steps.length === 0) { console.log(`  ${role}: none ran`); continue }
    const inside = role === 'generate' || role === 'review' ? 'model' : 'sandbox'
    const unmeasured = steps.filter(s => !s.measured).length
    line(`${role} (${steps.length}): submit -> end`, steps.map(s => s.e2eMs))
    line(`${role}: ${inside} time`, steps.map(s => s.innerMs), unmeasured === 0 ? '' : `   (${unmeasured} without timings: run started -> ended)`)
    line(`${role}: outside the ${inside}`, steps.map(s => s.e2eMs - s.innerMs))
  }

  const [noop, stat, test] = [pct(b.noop, 0.5), pct(b.static, 0.5), pct(b.test, 0.5)]
  console.log(`\nbaseline: the same steps submitted directly by a client at a coordinator node, submit -> end event (${b.noop.length} samples each)`)
  line('noop (stands for a model step, model time excluded)', b.noop)
  line('generate, maxTokens 8: submit -> end minus model time', b.generateOverhead)
  line('exec py_compile (the static check)', b.static, `   (sandbox ${fmt(pct(b.staticSandbox, 0.5))})`)
  line('exec pytest (the test suite)', b.test, `   (sandbox ${fmt(pct(b.testSandbox, 0.5))})`)
  const stepBaseline = (s: Step): number => s.role === 'static' ? stat : s.role === 'test' ? test : noop
  const perAttempt = attempts.map(a => sum(a.steps.map(stepBaseline)))
  const pureBaseline = attempts.map(a => a.steps.length * noop)
  const o50 = pct(overhead, 0.5)
  const s50 = pct(scheduling, 0.5)
  console.log('\nPipeline overhead per attempt, excluding model time, p50 (no target in the issue)')
  console.log(`  pipeline: ${fmt(o50)}   baseline (each attempt's steps run directly: noop per model step, the exec round trips): ${fmt(pct(perAttempt, 0.5))}   ratio ${(o50 / pct(perAttempt, 0.5)).toFixed(2)}`)
  console.log(`  outside the sandbox: ${fmt(s50)}   baseline (noop round trip x steps per attempt, ${(sum(attempts.map(a => a.steps.length)) / attempts.length).toFixed(1)} steps): ${fmt(pct(pureBaseline, 0.5))}   ratio ${(s50 / pct(pureBaseline, 0.5)).toFixed(2)}`)
}

async function main (): Promise<void> {
  const mesh = new LocalMesh()
  const abort = new AbortController()
  try {
    const nodes = await setUp(mesh)
    const submitAt = nodes[1]
    for (const n of nodes.slice(1)) void followEvents(n, onStateAt(n), abort.signal, TERMINAL).catch(() => {})
    await new Promise(resolve => setTimeout(resolve, 300))
    // Warm up: the model loaded, a sandbox run on each node, before anything is timed.
    await roundTrip(submitAt, { kind: 'generate', model: MODEL, prompt: 'def', maxTokens: 4 })
    for (const n of nodes.slice(1)) await roundTrip(n, { kind: 'exec', command: ['true'] })
    process.stdout.write(`mesh up: ${nodes.map(n => n.name).join(', ')}; ${BUILDS} builds x ${ATTEMPTS} attempts, ${SAMPLES} baseline samples per kind\n\n`)
    const { attempts, outcomes } = await runBuilds(nodes, submitAt)
    const b = await baseline(submitAt)
    report(attempts, b, outcomes)
  } finally {
    abort.abort()
    await mesh.stop()
  }
}

main().catch(err => { console.error(err); process.exitCode = 1 })
