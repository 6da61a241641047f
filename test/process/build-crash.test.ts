/**
 * The build loop with real node processes: the coordinating node is killed (SIGKILL) mid-job
 * and another node resumes the job from its last checkpoint; and `gryphgen build --wait`
 * from the CLI, with a model added by `gryphgen model add` to a running node.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { execFile } from 'node:child_process'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { writeTestModel } from '../../models/index.js'
import type { TaskViewT } from '../../protocols/task.js'
import { removeTempDirs, tempDir, waitFor } from '../helpers/nodes.js'
import { killAll, runCli, type NodeProcess, nodeApi, startNode } from '../helpers/processes.js'

// Leases of 6 s and adverts every 2 s (peers expire after 6 s of silence): a busy machine stalls
// a node's event loop for seconds at times, which must not look like a dead node here.
const CONFIG = { auction: { leaseMs: 6000, heartbeatMs: 500 }, advert: { baseIntervalMs: 2000, maxReceiveRate: 20 } }
const MODEL = 'tiny-coder'
let m: NodeProcess // the model
let b: NodeProcess // a sandbox, may coordinate
let c: NodeProcess // a sandbox, may coordinate
let work: string

const api = nodeApi
const start = async (dir: string, config: Record<string, unknown>, bootstrap?: string): Promise<NodeProcess> => startNode(dir, { ...CONFIG, ...config }, bootstrap)

const TESTS = { 'test_add.py': 'from add import add\n\ndef test_add():\n    assert add(2, 3) == 5\n' }
const COMMAND = ['python3', '-m', 'pytest', '-q', '-rfE', '-p', 'no:cacheprovider']

beforeAll(async () => {
  const mDir = await tempDir()
  m = await start(mDir, { workers: { exec: { size: 0 }, model: { size: 1, slots: 2 } }, models: { threads: 1, contextSize: 4096, sequences: 2 } })
  const address = (await api<{ addresses: string[] }>(m, 'GET', '/v1/node')).body.addresses[0]
  const dirs = [await tempDir(), await tempDir()]
  for (const d of dirs) await copyFile(join(mDir, 'swarm.key'), join(d, 'swarm.key'))
  ;[b, c] = await Promise.all(dirs.map(async d => start(d, { labels: ['coordinator'], workers: { exec: { size: 1 }, model: { size: 0 } } }, address)))
  work = await tempDir()
  await writeTestModel({ path: join(work, 'coder.gguf'), seed: 5, contextLength: 4096 })
  const added = await runCli(['model', 'add', join(work, 'coder.gguf'), '--name', MODEL, '--data-dir', mDir])
  expect(added.code, added.stderr).toBe(0)
  await waitFor(async () => {
    for (const n of [b, c]) if (!(await api<{ data: Array<{ id: string }> }>(n, 'GET', '/v1/models')).body.data.some(d => d.id === MODEL)) return false
    return true
  }, 30_000, 200)
})

afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

describe('build with real processes', () => {
  test('kill -9 the coordinator mid-job: another node resumes from the last checkpoint', async () => {
    const submit = await api<{ id: string }>(b, 'POST', '/v1/tasks', {
      kind: 'build', specification: 'Write add.py with add(a, b) returning a + b.', tests: { files: TESTS, command: COMMAND }, language: 'python', model: MODEL,
      budget: { maxAttempts: 8, maxWallMs: 420_000 }, generation: { temperature: 1, maxFileChars: 24, maxPathChars: 12 }, requirements: { labels: ['coordinator'] },
    })
    expect(submit.status, JSON.stringify(submit.body)).toBe(202)
    const id = submit.body.id
    let first: TaskViewT | undefined
    await waitFor(async () => {
      first = (await api<TaskViewT>(m, 'GET', `/v1/tasks/${id}`)).body
      return (first.checkpoints?.length ?? 0) >= 1
    }, 90_000, 100)
    const coordinator = first?.attempts.at(-1)?.node
    const ids = await Promise.all([b, c].map(async n => (await api<{ peerId: string }>(n, 'GET', '/v1/node')).body.peerId))
    const [victim, survivorId] = coordinator === ids[0] ? [b, ids[1]] : [c, ids[0]]
    victim.child.kill('SIGKILL')
    let view: TaskViewT | undefined
    await waitFor(async () => {
      view = (await api<TaskViewT>(m, 'GET', `/v1/tasks/${id}`)).body
      return ['succeeded', 'failed', 'cancelled'].includes(view.state)
    }, 300_000, 200)
    const done = view as TaskViewT
    expect(done.attempts[0]).toMatchObject({ node: coordinator, outcome: 'lost' })
    expect(done.attempts.at(-1)?.node).toBe(survivorId)
    const steps = done.checkpoints ?? []
    expect(steps.map(cp => cp.step), JSON.stringify({ ...done, checkpoints: undefined })).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(steps[0].node).toBe(coordinator)
    const resumedAt = steps.findIndex(cp => cp.node === survivorId)
    expect(resumedAt).toBeGreaterThan(0)
    expect(steps.slice(resumedAt).every(cp => cp.node === survivorId)).toBe(true)
    expect(done.result).toMatchObject({ decision: 'give-up', spent: ['attempts'] })
  }, 480_000)

  test('gryphgen build --wait follows the job, prints each attempt, exits 1 when it gives up', async () => {
    await mkdir(join(work, 'tests'))
    await writeFile(join(work, 'tests', 'test_add.py'), TESTS['test_add.py'])
    await writeFile(join(work, 'spec.md'), 'Write add.py with add(a, b) returning a + b.')
    const r = await runCli([
      'build', '--spec', join(work, 'spec.md'), '--tests', join(work, 'tests'), '--test-command', COMMAND.join(' '),
      '--model', MODEL, '--max-attempts', '1', '--out', join(work, 'out'), '--wait', '--data-dir', m.dataDir,
    ], { timeoutMs: 240_000 })
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/^build \S+ submitted$/m)
    expect(r.stderr).toMatch(/^attempt 1: /m)
    expect(r.stdout).toMatch(/^build \S+: failed: .*giving up/m)
    const bad = await runCli(['build', '--spec', join(work, 'nope.md'), '--tests', join(work, 'tests'), '--test-command', 'make', '--model', MODEL, '--data-dir', m.dataDir])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--spec/)
  }, 300_000)

  test('with a model that answers correctly (a scripted one, from make-test-model --answer-files), gryphgen build --wait writes the passing files to --out and exits 0', async () => {
    const answer = join(work, 'answer')
    await mkdir(answer)
    await writeFile(join(answer, 'add.py'), 'def add(a, b):\n    return a + b\n')
    const root = fileURLToPath(new URL('../..', import.meta.url))
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/make-test-model.ts', '--out', join(work, 'scripted.gguf'), '--answer-files', answer], { cwd: root, timeout: 60_000 })
    const added = await runCli(['model', 'add', join(work, 'scripted.gguf'), '--name', 'scripted', '--data-dir', m.dataDir])
    expect(added.code, added.stderr).toBe(0)
    // `model add` returns once the running node serves the model: the next command can use it at once.
    expect((await api<{ data: Array<{ id: string }> }>(m, 'GET', '/v1/models')).body.data.map(d => d.id)).toContain('scripted')
    const r = await runCli([
      'build', '--spec', join(work, 'spec.md'), '--tests', join(work, 'tests'), '--test-command', COMMAND.join(' '),
      '--model', 'scripted', '--out', join(work, 'passing'), '--wait', '--data-dir', m.dataDir,
    ], { timeoutMs: 240_000 })
    expect(r.code, `${r.stderr}${r.stdout}\nmodel node's log:\n${m.output().slice(-6000)}`).toBe(0)
    expect(r.stderr).toMatch(/^attempt 1: 1 files, tests 1\/1 passed; done/m)
    expect(await readFile(join(work, 'passing', 'add.py'), 'utf8')).toBe('def add(a, b):\n    return a + b\n')

    // Any checkpoint's files come back with gryphgen files; a checkpoint that does not exist is a clear error.
    const id = /^build (\S+) submitted$/m.exec(r.stderr)?.[1] as string
    const files = await runCli(['files', id, '--checkpoint', '1', '--out', join(work, 'checkpoint-1'), '--data-dir', m.dataDir])
    expect(files.code, files.stderr).toBe(0)
    expect(files.stdout).toMatch(/wrote 1 files of checkpoint 1/)
    expect(await readFile(join(work, 'checkpoint-1', 'add.py'), 'utf8')).toBe('def add(a, b):\n    return a + b\n')
    const missing = await runCli(['files', id, '--checkpoint', '9', '--out', join(work, 'nine'), '--data-dir', m.dataDir])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no checkpoint 9 \(it has 1\)/)
    const bad = await runCli(['files', id, '--checkpoint', 'x', '--out', join(work, 'x'), '--data-dir', m.dataDir])
    expect(bad.code).toBe(2)
  }, 300_000)
})
