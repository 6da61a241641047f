/**
 * Monitoring against real node processes: GET /v1/ready of a started node, the Dockerfile's
 * HEALTHCHECK command (run as written) passing against it and failing without a node, and
 * `gryphgen top` (once, as JSON, without a terminal, and in a terminal where q quits) showing
 * both nodes and a running task, with a peer's control characters kept off the terminal.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PATIENCE_MS, removeTempDirs, tempDir, waitFor } from '../helpers/nodes.js'
import { BIN, killAll, nodeApi, runCli, startNode, type NodeProcess } from '../helpers/processes.js'

const EVIL = 'evil\u001b[2Jname'
let a: NodeProcess
let b: NodeProcess
let task: string

beforeAll(async () => {
  a = await startNode(await tempDir(), { name: 'top-a', workers: { exec: { size: 1 } } })
  const { body } = await nodeApi<{ addresses: string[] }>(a, 'GET', '/v1/node')
  const bDir = await tempDir()
  await copyFile(join(a.dataDir, 'swarm.key'), join(bDir, 'swarm.key')) // the same mesh
  b = await startNode(bDir, { name: EVIL, workers: { exec: { size: 0 } } }, body.addresses[0])
  await waitFor(async () => (await nodeApi<{ peers: unknown[] }>(a, 'GET', '/v1/peers')).body.peers.length === 1)
})
afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

const ready = async (node: NodeProcess): Promise<Response> => fetch(`${await node.apiUrl()}/v1/ready`, { signal: AbortSignal.timeout(PATIENCE_MS) })

describe('readiness of a real node', () => {
  test('/v1/ready turns 200 once mesh, ledger, workers and sandbox probe are up (no token)', async () => {
    await waitFor(async () => (await ready(a)).status === 200)
    const body = await (await ready(a)).json() as { ready: boolean, checks: Array<{ name: string, ok: boolean }> }
    expect(body.ready).toBe(true)
    expect(body.checks.map(c => c.name).sort()).toEqual(['ledger', 'mesh', 'sandbox', 'workers'])
  })

  test('the Dockerfile HEALTHCHECK command passes against a ready node and fails without one', async () => {
    const dockerfile = await readFile(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8')
    const line = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile)
    expect(line).not.toBeNull()
    const [command, ...args] = JSON.parse(line?.[1] ?? '[]') as string[]
    expect(command).toBe('node')
    const run = (dataDir: string): number | null => spawnSync(process.execPath, args, { env: { ...process.env, GRYPHGEN_DATA_DIR: dataDir }, timeout: PATIENCE_MS }).status
    await waitFor(async () => (await ready(a)).status === 200)
    expect(run(a.dataDir)).toBe(0)
    const none = await tempDir()
    await writeFile(join(none, 'api-port'), '1') // nothing listens there
    expect(run(none)).toBe(1)
  })
})

describe('gryphgen top', () => {
  beforeAll(async () => {
    await waitFor(async () => (await ready(a)).status === 200)
    const submitted = await nodeApi<{ id: string }>(a, 'POST', '/v1/tasks', { kind: 'exec', command: ['sleep', '120'], requirements: { cpus: 1, memoryMb: 64 } })
    expect(submitted.status).toBe(202)
    task = submitted.body.id
    await waitFor(async () => (await nodeApi<{ state: string }>(a, 'GET', `/v1/tasks/${task}`)).body.state === 'running')
  })
  afterAll(async () => { await nodeApi(a, 'DELETE', `/v1/tasks/${task}`) })

  test('--once: both nodes (this one marked), the running task on its node, a peer\'s control characters replaced', async () => {
    const r = await runCli(['top', '--once', '--data-dir', a.dataDir])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^\*\s+top-a\s/m)
    expect(r.stdout).toContain('evil?[2Jname')
    expect(r.stdout).not.toContain('\u001b')
    expect(r.stdout).toMatch(new RegExp(`^${task}\\s+exec\\s+running\\s+top-a`, 'm'))
    expect(r.stdout).toMatch(/1 running/)
  })

  test('--json: one snapshot; without a terminal it prints once and exits', async () => {
    const r = await runCli(['top', '--json', '--data-dir', a.dataDir])
    expect(r.code, r.stderr).toBe(0)
    const snapshot = JSON.parse(r.stdout) as { peers: unknown[], tasks: Array<{ id: string }> }
    expect(snapshot.peers).toHaveLength(1)
    expect(snapshot.tasks.map(t => t.id)).toContain(task)
    const piped = await runCli(['top', '--interval', '0.5', '--data-dir', a.dataDir])
    expect(piped.code, piped.stderr).toBe(0)
    expect(piped.stdout.match(/gryphgen top/g)).toHaveLength(1)
  })

  test('a bad --interval is a usage error', async () => {
    const r = await runCli(['top', '--interval', 'soon', '--data-dir', a.dataDir])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--interval/)
  })

  test('in a terminal it refreshes until q', async () => {
    // util-linux `script` gives the CLI a pseudo-terminal; what it draws comes back on stdout.
    const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} top --interval 0.3 --data-dir ${a.dataDir}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
    try {
      await waitFor(() => (out.match(/gryphgen top {2}\d/g) ?? []).length >= 2)
      expect(out).toContain('q to quit')
      child.stdin.write('q')
      expect(await Promise.race([exited, new Promise(resolve => setTimeout(() => resolve('still running'), PATIENCE_MS))])).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
