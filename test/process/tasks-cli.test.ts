import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { tempDir, removeTempDirs, waitFor } from '../helpers/nodes.js'
import { spawnNode, waitReady, runCli, killAll, type CliResult, type NodeProcess } from '../helpers/processes.js'

// One node with two exec workers serves every test here; the mesh is tested elsewhere.
let node: NodeProcess
let dir: string

beforeAll(async () => {
  dir = await tempDir()
  await writeFile(join(dir, 'gryphgen.json'), JSON.stringify({ workers: { exec: { size: 2 } } }))
  node = spawnNode(dir)
  await waitReady(node)
  await waitFor(() => node.output().includes('sandbox available'), 15_000, 50) // exec tasks wait for the probe
})
afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

/** `gryphgen COMMAND --data-dir DIR ARGS...`: the data dir goes before any `--`. */
const cli = async (command: string, args: string[] = [], timeoutMs = 20_000): Promise<CliResult> => runCli([command, '--data-dir', dir, ...args], { timeoutMs })
const json = <T>(r: CliResult): T => {
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as T
}
interface Task { id: string, state: string, kind: string }
const status = async (id: string): Promise<Task> => json<Task>(await cli('status', [id, '--json']))
const listed = async (state?: string): Promise<Task[]> => json<{ tasks: Task[] }>(await cli('tasks', ['--json', ...(state === undefined ? [] : ['--state', state])])).tasks

/** Reads the task's event stream until every text has appeared in it. */
async function printed (id: string, texts: string[]): Promise<void> {
  const abort = new AbortController()
  const timer = setTimeout(() => { abort.abort() }, 60_000)
  try {
    const res = await fetch(`${await node.apiUrl()}/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${await node.token()}` }, signal: abort.signal })
    let seen = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      seen += Buffer.from(chunk).toString()
      if (texts.every(t => seen.includes(t))) return
    }
    throw new Error(`the stream ended without ${texts.join(', ')}: ${seen}`)
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
}

describe('task commands against a running node', () => {
  test('submit --noop prints an id; status shows it succeeded; tasks lists it', async () => {
    const submitted = await cli('submit', ['--noop'])
    expect(submitted.code, submitted.stderr).toBe(0)
    const id = submitted.stdout.trim()
    expect(id).toMatch(/^[A-Za-z0-9_-]{8,64}$/)
    await waitFor(async () => (await status(id)).state === 'succeeded', 10_000, 100)
    expect((await listed('succeeded')).map(t => t.id)).toContain(id)
    const table = await cli('tasks')
    expect(table.stdout).toContain(id)
    expect((await cli('status', [id])).stdout).toContain('succeeded')
  })

  test('submit --wait: the command\'s output (whole, past the preview) and exit code; --file and a JSON task file deliver their content', async () => {
    const local = join(dir, 'input.txt')
    const content = `local ${randomBytes(8).toString('hex')}\n`
    await writeFile(local, content)
    const taskFile = join(dir, 'task.json')
    await writeFile(taskFile, JSON.stringify({ kind: 'exec', command: ['sh', '-c', 'cat note.txt; echo oops >&2'], files: { 'note.txt': 'from the task file\n' } }))
    const [exit7, file, fromJson, noWait, large] = await Promise.all([
      cli('submit', ['--wait', '--', 'sh', '-c', 'echo hi; exit 7']),
      cli('submit', ['--wait', '--file', `in.txt=@${local}`, '--', 'cat', 'in.txt']),
      cli('submit', ['--wait', taskFile]),
      cli('submit', [taskFile, '--json', '--priority', '8']),
      cli('submit', ['--wait', '--', 'seq', '1', '20000']), // over 16 KiB: the result keeps a preview, the whole text is a blob
    ])
    expect(large.code, large.stderr).toBe(0)
    expect(large.stdout).toBe(Array.from({ length: 20_000 }, (_, i) => `${i + 1}\n`).join(''))
    expect(exit7.code).toBe(7)
    expect(exit7.stdout).toBe('hi\n')
    expect(file.code, file.stderr).toBe(0)
    expect(file.stdout).toBe(content)
    expect(fromJson.code, fromJson.stderr).toBe(0)
    expect(fromJson.stdout).toBe('from the task file\n')
    expect(fromJson.stderr).toContain('oops')
    const { id } = json<{ id: string }>(noWait)
    await waitFor(async () => (await status(id)).state === 'succeeded', 10_000, 100)
    const logs = await cli('logs', [id])
    expect(logs.code).toBe(0)
    expect(logs.stdout).toBe('from the task file\n')
    expect(logs.stderr).toContain('oops')
  })

  test('cancel a running task: waiting on it exits 130; its status is cancelled; its logs keep what it printed; a second cancel is refused', async () => {
    const before = new Set((await listed()).map(t => t.id))
    const waiting = cli('submit', ['--wait', '--', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2; sleep 60'], 30_000)
    let id = ''
    await waitFor(async () => {
      id = (await listed('running')).find(t => !before.has(t.id))?.id ?? ''
      return id !== ''
    }, 10_000, 100)
    const following = cli('logs', [id, '--follow'], 30_000)
    await new Promise(resolve => setTimeout(resolve, 300)) // let the follower subscribe (it also copes if it did not)
    await printed(id, ['line 5', 'oops']) // the run printed its lines before the cancel
    const cancel = await cli('cancel', [id])
    expect(cancel.code, cancel.stderr).toBe(0)
    expect((await waiting).code).toBe(130)
    expect((await following).code).toBe(130)
    expect((await status(id)).state).toBe('cancelled')
    // What it printed before the cancel is kept (recorded once the run has been stopped).
    let logs: CliResult = { code: null, stdout: '', stderr: '' }
    await waitFor(async () => { logs = await cli('logs', [id]); return logs.stdout !== '' }, 30_000, 250)
    expect(logs.code).toBe(0)
    expect(logs.stdout).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n')
    expect(logs.stderr).toContain('oops')
    const again = await cli('cancel', [id])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('TaskConflictError')
  })

  test('an impossible requirement: --wait exits 3 with the reasons; the task stays pending and can be cancelled', async () => {
    const r = await cli('submit', ['--wait', '--noop', '--memory-mb', '99999999'])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('memory')
    const pending = (await listed('pending')).filter(t => t.kind === 'noop')
    expect(pending).toHaveLength(1)
    expect((await cli('cancel', [pending[0].id, '--json'])).code).toBe(0)
  })

  test('a malformed task id says it is not a task id', async () => {
    const r = await cli('status', ['nope123'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('not a task id: "nope123"')
  })

  test('an unknown task is a clear error', async () => {
    const r = await cli('status', ['no-such-task'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('NotFoundError')
  })
})

test('bad flags exit 2 before any node is contacted', async () => {
  const empty = await tempDir()
  const bad = [
    ['submit', '--priority', '10', '--', 'true'],
    ['submit', '--cpus', 'two', '--', 'true'],
    ['submit', '--file', 'no-equals-sign', '--', 'true'],
    ['submit', '--file', `x=@${join(empty, 'missing')}`, '--', 'true'],
    ['submit', join(empty, 'task.json'), '--', 'true'],
    ['submit'],
    ['tasks', '--state', 'sleeping'],
  ]
  const results = await Promise.all(bad.map(async ([command, ...args]) => runCli([command, '--data-dir', empty, ...args])))
  for (const r of results) {
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain('UsageError')
  }
  // A command's own option before `--` says where the command goes; a typo gets the hint, not pages of help.
  const dashless = await runCli(['submit', '--data-dir', empty, 'python3', '-c', 'print(1)'])
  expect(dashless.code).toBe(2)
  expect(dashless.stderr).toContain('put the command after --')
  const typo = await runCli(['submit', '--data-dir', empty, '--memroy-mb', '5', '--', 'true'])
  expect(typo.code).toBe(2)
  expect(typo.stderr).toContain('Did you mean --memory-mb?')
  expect(typo.stderr.trim().split('\n').length).toBeLessThanOrEqual(3)
})
