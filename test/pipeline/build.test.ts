/**
 * The build loop end to end on a 3-node mesh with the real node-llama-cpp on a generated
 * model (gibberish by design: it cannot pass tests): every step runs as a task on the mesh
 * (generate and review on the model node, checks and tests in a sandbox), each attempt is a
 * checkpoint, the job gives up when its attempts are spent and says why; a coordinator that
 * stops mid-job is replaced and the job resumes after its last checkpoint; bad requests are
 * refused at once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { join } from 'node:path'
import { filesAnswerPieces, ModelStore, writeScriptedModel, writeTestModel } from '../../models/index.js'
import type { GryphgenNode } from '../../node/node.js'
import type { TaskViewT } from '../../protocols/task.js'
import { newSwarmKeyHex, nodeTracker, tempDir, waitFor } from '../helpers/nodes.js'

const nodes = nodeTracker()
let a: GryphgenNode // the model
let b: GryphgenNode // a sandbox, may coordinate
let c: GryphgenNode // a sandbox, may coordinate
const MODEL = 'tiny-coder'
const SCRIPTED = 'scripted-coder' // answers every prompt with a correct add.py (models/testmodel/scripted.ts)
const ADD_PY = 'def add(a, b):\n    return a + b\n'
const SCRIPTED_TS = 'scripted-ts' // answers with TypeScript that does not type-check

const build = (budget: Record<string, number>): Record<string, unknown> => ({
  kind: 'build',
  specification: 'Write add.py with a function add(a, b) that returns the sum of a and b.',
  tests: { files: { 'test_add.py': 'from add import add\n\ndef test_add():\n    assert add(2, 3) == 5\n' }, command: ['python3', '-m', 'pytest', '-q', '-rfE', '-p', 'no:cacheprovider'] },
  language: 'python',
  model: MODEL,
  budget: { maxWallMs: 120_000, ...budget },
  requirements: { labels: ['coordinator'] },
  // The test model writes gibberish whose strings rarely end: short bounds make its answers complete files.
  generation: { temperature: 1, maxFileChars: 24, maxPathChars: 12 },
})

async function ended (node: GryphgenNode, id: string, timeoutMs = 90_000): Promise<TaskViewT> {
  await waitFor(async () => ['succeeded', 'failed', 'cancelled'].includes((await node.tasks.get(id)).state), timeoutMs, 100)
  return node.tasks.get(id)
}

beforeAll(async () => {
  const swarmKey = newSwarmKeyHex()
  // Room for the prompt: a 4096-token context (the tiny shape claims 1024 by default).
  // `a` embeds its corpora with the model too (through embed tasks on the mesh).
  a = await nodes.start({ swarmKey, name: 'a', modelWorkers: 1, models: { contextSize: 4096, sequences: 2, embeddingModel: MODEL } })
  b = await nodes.start({ swarmKey, name: 'b', bootstrap: a.addresses(), execWorkers: 1, labels: ['coordinator'] })
  c = await nodes.start({ swarmKey, name: 'c', bootstrap: a.addresses(), execWorkers: 1, labels: ['coordinator'] })
  const file = join(await tempDir(), 'coder.gguf')
  await writeTestModel({ path: file, seed: 5, contextLength: 4096 })
  const scripted = join(await tempDir(), 'scripted.gguf')
  await writeScriptedModel({ path: scripted, pieces: ['{"files":[{"path":"', 'add.py', '","content":"', JSON.stringify(ADD_PY).slice(1, -1), '"}]}'] })
  const store = await ModelStore.open({ dataDir: a.config.dataDir })
  await store.add(file, { name: MODEL })
  await store.add(scripted, { name: SCRIPTED })
  const scriptedTs = join(await tempDir(), 'scripted-ts.gguf')
  await writeScriptedModel({ path: scriptedTs, pieces: filesAnswerPieces({ 'add.ts': 'export function add (a: number, b: number): string {\n  return a + b\n}\n' }) })
  await store.add(scriptedTs, { name: SCRIPTED_TS })
  await waitFor(() => [b, c].every(n => n.meshModels().some(m => m.name === MODEL) && n.meshModels().some(m => m.name === SCRIPTED) && n.peers().filter(p => p.capabilities.sandbox?.available === true).length >= 1), 20_000)
})

afterAll(async () => { await nodes.stopAll() })

describe('build on a mesh', () => {
  test('every step runs as a task on the mesh, attempts are checkpoints, the job gives up when its attempts are spent', async () => {
    const { id } = await c.tasks.submit(build({ maxAttempts: 2 }), {})
    const view = await ended(c, id)
    expect(view.state).toBe('failed')
    const result = view.result as { decision: string, spent?: string[], reason: string, attempts: number }
    expect(result).toMatchObject({ decision: 'give-up', spent: ['attempts'], attempts: 2 })
    expect(result.reason).toMatch(/attempt/)
    expect(view.checkpoints?.map(cp => cp.step)).toEqual([1, 2])
    for (const cp of view.checkpoints ?? []) expect((cp.summary.decision as { action: string }).action).toMatch(/repair|revert|give-up/)
    const coordinator = view.attempts.at(-1)?.node
    expect([b.peerId, c.peerId]).toContain(coordinator)

    // The steps are tasks of their own, auctioned by the coordinator: on the model node or a sandbox node.
    // As c sees them once the ledger entries of their awards have reached it (they are the
    // coordinator's and the runners' entries: on a busy machine they may land after the job's end).
    const stepsNow = async (): Promise<TaskViewT[]> => (await c.tasks.list({ limit: 200 })).filter(t => t.submittedAt >= view.submittedAt && t.id !== id)
    let steps = await stepsNow()
    await waitFor(async () => (steps = await stepsNow()).every(t => t.attempts.length > 0), 60_000, 200).catch(() => undefined)
    const ranOn = (kind: string): string[] => steps.filter(t => t.kind === kind).map(t => t.attempts.at(-1)?.node ?? '')
    expect(ranOn('generate').length).toBeGreaterThanOrEqual(2)
    expect(new Set(ranOn('generate'))).toEqual(new Set([a.peerId]))
    const parsed = (view.checkpoints ?? []).filter(cp => !((cp.summary.stepFailures as Array<{ error: { name: string } }> | undefined) ?? []).some(f => f.error.name === 'GeneratedFilesError'))
    expect(parsed.length).toBeGreaterThan(0) // the bounds in `generation` make the test model's answers parse
    {
      // Files came out: they were checked and tested in a sandbox, and reviewed by the model.
      // (static checks run only for files of the language: gibberish paths have no .py)
      expect(ranOn('exec').length).toBeGreaterThanOrEqual(parsed.length)
      for (const cp of parsed) expect(cp.summary.tests).toMatchObject({ runner: 'pytest' }) // the suite ran: its report is recorded
      for (const node of ranOn('exec')) expect([b.peerId, c.peerId]).toContain(node)
      expect(new Set(ranOn('analyze'))).toEqual(new Set([a.peerId]))
    }
    // The best attempt's files are blobs any node serves.
    const files = (view.result as { files?: Record<string, { digest: string }> }).files ?? {}
    for (const ref of Object.values(files)) expect((await b.tasks.getBlob(ref.digest, {})).byteLength).toBeGreaterThanOrEqual(0)
  })

  test('a model that writes correct code: the job is done after one attempt, its files pass the tests, and the best files are blobs any node serves', async () => {
    const { id } = await b.tasks.submit({ ...build({ maxAttempts: 3 }), model: SCRIPTED, generation: {} }, {})
    const view = await ended(b, id)
    expect(view.state, JSON.stringify(view.result)).toBe('succeeded')
    const result = view.result as { decision: string, reason: string, attempts: number, best: number, tests: { passed: number, failed: number }, files: Record<string, { digest: string }> }
    expect(result).toMatchObject({ decision: 'done', attempts: 1, best: 1, tests: { passed: 1, failed: 0 } })
    expect(result.reason).toMatch(/passed all 1 tests/)
    // The test report is pytest's JUnit XML, written in the sandbox and collected with the test step's result.
    const execs = (await b.tasks.list({ limit: 200 })).filter(t => t.kind === 'exec' && t.submittedAt >= view.submittedAt)
    const reports = execs.flatMap(t => ((t.result?.files ?? []) as Array<{ path: string, content?: string }>).filter(f => f.path === '.gryphgen/junit.xml'))
    expect(reports.length).toBeGreaterThan(0)
    for (const report of reports) expect(report.content).toContain('<testcase classname="test_add" name="test_add"')
    expect(Object.keys(result.files)).toEqual(['add.py'])
    expect(Buffer.from(await c.tasks.getBlob(result.files['add.py'].digest, {})).toString()).toBe(ADD_PY)
    expect(view.checkpoints?.map(cp => (cp.summary.decision as { action: string }).action)).toEqual(['done'])
  })

  test('TypeScript is checked by the node\'s own compiler in a sandbox: its findings are in the checkpoint', async () => {
    const { id } = await b.tasks.submit({
      ...build({ maxAttempts: 1 }),
      specification: 'Write add.ts exporting add(a: number, b: number): number.',
      language: 'typescript',
      model: SCRIPTED_TS,
      tests: { files: { 'test.sh': 'grep -q "): number" add.ts\n' }, command: ['sh', 'test.sh'] },
      generation: {},
    }, {})
    const view = await ended(b, id)
    expect(view.result).toMatchObject({ decision: 'give-up', spent: ['attempts'] })
    const findings = view.checkpoints?.[0]?.summary.staticFindings as Array<{ tool: string, file: string, line: number, message: string }>
    expect(findings).toEqual(expect.arrayContaining([expect.objectContaining({ tool: 'tsc', file: 'add.ts', line: 2, message: expect.stringMatching(/^TS2322/) })]))
  })

  test('a corpus of the submitting node travels with the build as a blob: the coordinator imports it and retrieves from it; chunks and queries are embedded on the mesh', async () => {
    const added = await a.corpora.addBody('docs', new TextEncoder().encode(JSON.stringify({ documents: [
      { path: 'guide/add.md', text: '# Adding numbers\n\nThe function add(a, b) returns the sum of a and b. House rule zorblax: name the file add.py.\n' },
      { path: 'guide/other.md', text: '# Inventory\n\nWarehouse stock levels are counted every night.\n' },
    ] })), {})
    expect(added.sources).toBe(2)
    expect(a.corpora.list().find(x => x.name === 'docs')).toMatchObject({ embedModel: MODEL, dims: expect.any(Number) })
    expect((await a.tasks.list({ limit: 200 })).some(t => t.kind === 'embed' && t.state === 'succeeded')).toBe(true)
    const hybrid = await a.corpora.query('docs', 'sum of two numbers', { k: 2 })
    expect(hybrid[0]).toMatchObject({ chunk: { source: 'guide/add.md' }, vectorRank: expect.any(Number) })

    const { id } = await a.tasks.submit({ ...build({ maxAttempts: 1 }), corpus: 'docs' }, {})
    const view = await ended(a, id)
    expect(view.result).toMatchObject({ decision: 'give-up', retrieval: { corpus: 'docs', chunks: 2 } })
    const coordinatorId = view.attempts.at(-1)?.node
    const coordinator = [b, c].find(n => n.peerId === coordinatorId)
    expect(coordinator).toBeDefined() // b or c: neither had the corpus
    const copies = coordinator?.corpora.list().filter(x => x.name.startsWith('docs.shared-')) ?? []
    expect(copies).toEqual([expect.objectContaining({ chunks: 2, embedModel: MODEL })])
    // The generator's prompt holds the retrieved chunk.
    const steps = (await a.tasks.list({ limit: 200 })).filter(t => t.kind === 'generate' && t.submittedAt >= view.submittedAt)
    expect(steps.length).toBeGreaterThanOrEqual(1)
    const generate = await coordinator?.ledger.task(steps[0].id)
    expect(JSON.stringify(generate?.spec.messages)).toMatch(/zorblax/)
  })

  test('a task asked to avoid a node runs elsewhere when another node can run it, and still runs when none can', async () => {
    const exec = (avoid: string[]): Record<string, unknown> => ({ kind: 'exec', command: ['true'], requirements: { labels: ['coordinator'] }, avoid })
    for (let i = 0; i < 3; i++) {
      const { id } = await a.tasks.submit(exec([b.peerId]), {})
      const view = await ended(a, id, 30_000)
      expect(view.state).toBe('succeeded')
      expect(view.attempts.at(-1)?.node).toBe(c.peerId)
    }
    const { id } = await a.tasks.submit(exec([b.peerId, c.peerId]), {})
    expect((await ended(a, id, 30_000)).state).toBe('succeeded')
    // A program no sandbox has: no node can ever run it, and the task says so.
    const { id: cobol } = await a.tasks.submit({ kind: 'exec', command: ['cobc'], requirements: { runtimes: ['cobol'] } }, {})
    await waitFor(async () => (await a.tasks.get(cobol)).blocked?.verdict === 'impossible', 10_000, 100)
    expect((await a.tasks.get(cobol)).blocked?.reasons.map(r => r.reason).join(' ')).toMatch(/needs cobol in the sandbox/)
    await a.tasks.cancel(cobol)
  })

  test('a coordinator that stops mid-job is replaced; the job resumes after its last checkpoint', async () => {
    const { id } = await c.tasks.submit(build({ maxAttempts: 8 }), {})
    await waitFor(async () => ((await c.tasks.get(id)).checkpoints?.length ?? 0) >= 1, 90_000, 100)
    const first = await c.tasks.get(id)
    const coordinator = first.attempts.at(-1)?.node
    const [gone, survivor] = coordinator === b.peerId ? [b, c] : [c, b]
    const goneId = gone.peerId
    await gone.stop()
    const view = await ended(survivor, id, 90_000)
    expect(view.attempts.length).toBeGreaterThanOrEqual(2)
    expect(view.attempts.at(-1)?.node).toBe(survivor.peerId)
    const steps = view.checkpoints ?? []
    expect(steps.map(cp => cp.step)).toEqual(Array.from({ length: 8 }, (_, i) => i + 1))
    expect(steps[0].node).toBe(goneId)
    // Numbering went on from the last checkpoint, not from 1: the survivor's steps come after the stopped node's.
    const firstOfSurvivor = steps.findIndex(cp => cp.node === survivor.peerId)
    expect(firstOfSurvivor).toBeGreaterThan(0)
    expect(steps.slice(firstOfSurvivor).every(cp => cp.node === survivor.peerId)).toBe(true)
    expect((view.result as { decision: string }).decision).toBe('give-up')
  })
})

describe('bad build requests', () => {
  test('an unknown model or corpus, an empty test suite and an empty specification are refused with clear errors', async () => {
    await expect(a.tasks.submit({ ...build({}), model: 'no-such-model' }, {})).rejects.toMatchObject({ name: 'ModelNotServedError' })
    await expect(a.tasks.submit({ ...build({}), corpus: 'no-such-corpus' }, {})).rejects.toMatchObject({ name: 'CorpusNotFoundError' })
    await expect(a.tasks.submit({ ...build({}), tests: { files: {}, command: [] } }, {})).rejects.toMatchObject({ name: 'InvalidTaskError', details: expect.arrayContaining([expect.stringMatching(/tests/)]) })
    await expect(a.tasks.submit({ ...build({}), specification: '  ' }, {})).rejects.toMatchObject({ name: 'InvalidTaskError', details: expect.arrayContaining([expect.stringMatching(/specification/)]) })
    await expect(a.tasks.submit({ ...build({ maxAttempts: 0 }) }, {})).rejects.toMatchObject({ name: 'InvalidTaskError', details: expect.arrayContaining([expect.stringMatching(/maxAttempts/)]) })
  })
})

describe('retrieval when the embedding model is gone', () => {
  test('a hybrid corpus ranks by BM25 alone once no node serves its model, and the embed task is not left pending', async () => {
    await (await ModelStore.open({ dataDir: a.config.dataDir })).remove(MODEL)
    await waitFor(() => !a.meshModels().some(m => m.name === MODEL), 20_000)
    const results = await a.corpora.query('docs', 'sum of two numbers', { k: 2 })
    expect(results[0]).toMatchObject({ chunk: { source: 'guide/add.md' }, bm25Rank: 1 })
    expect(results.every(r => r.vectorRank === undefined)).toBe(true)
    const embeds = (await a.tasks.list({ limit: 500 })).filter(t => t.kind === 'embed' && t.requirements.model === MODEL)
    await waitFor(async () => (await a.tasks.list({ limit: 500 })).filter(t => t.kind === 'embed').every(t => t.state !== 'pending'), 10_000)
    expect(embeds.length).toBeGreaterThan(0)
  })
})
