/**
 * What makes a warm start cheap (issue 19 item 3), checked on real processes: the CLI and the
 * worker processes run the esbuild bundles of `npm run build` (one file each, not ~1,700 ES
 * modules), and a second start on a data dir takes the hardware facts and the sandbox finding
 * from its host cache (the same finding the first start probed) and is ready.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, expect, test } from 'vitest'
import { killAll, nodeApi, pidsMentioning, runCli, spawnNode, stopNode, waitReady } from '../helpers/processes.js'
import { waitFor } from '../helpers/nodes.js'

const scratch = await mkdtemp(join(tmpdir(), 'gryphgen-start-path-'))
afterEach(async () => { await killAll() })
afterAll(async () => { await rm(scratch, { recursive: true, force: true }) })

// A module hook that appends every URL Node loads as an ES module to GRYPHGEN_TEST_LOADED.
const HOOKS = "import{appendFileSync}from'node:fs';export async function load(u,c,n){appendFileSync(process.env.GRYPHGEN_TEST_LOADED,u+'\\n');return n(u,c)}"
const REGISTER = `import{register}from'node:module';register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)})`

test('the CLI runs its bundle: one file of its own code, not the modules of dist/', async () => {
  const loaded = join(scratch, 'loaded.txt')
  const result = await runCli(['--version'], { env: { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(REGISTER)}`, GRYPHGEN_TEST_LOADED: loaded } })
  expect(result.code).toBe(0)
  const urls = (await readFile(loaded, 'utf8')).trim().split('\n').filter(u => u.startsWith('file:'))
  const dist = new URL('../../dist/', import.meta.url).href
  expect(urls).toContain(`${dist}bundle/main.js`)
  expect(urls.filter(u => u.startsWith(dist) && !u.startsWith(`${dist}bundle/`))).toEqual([])
  expect(urls.filter(u => u.includes('/node_modules/typebox/'))).toEqual([])
})

async function sandboxFinding (node: ReturnType<typeof spawnNode>): Promise<unknown> {
  let finding: unknown
  await waitFor(() => {
    const line = node.output().split('\n').find(l => /"msg":"sandbox (available|unavailable)/.test(l))
    if (line !== undefined) finding = (JSON.parse(line) as { sandbox: unknown }).sandbox
    return line !== undefined
  })
  return finding
}

test('workers run their bundle; a second start takes the host facts and the sandbox finding from the cache', async () => {
  const dataDir = join(scratch, 'node')
  const first = spawnNode(dataDir, ['--log-level', 'info'])
  await waitReady(first)
  const probed = await sandboxFinding(first)
  const workers = await pidsMentioning('worker-main')
  const commands = await Promise.all(workers.map(async pid => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')))
  // This node's workers only (their socket is in its data dir): workers of nodes that other
  // test files run at the same time from this checkout need not run the bundle.
  const ours = commands.filter(argv => argv.some(a => a.includes(dataDir)))
  expect(ours.length).toBeGreaterThan(0)
  for (const argv of ours) expect(argv.some(a => a.endsWith('/dist/bundle/worker-main.js'))).toBe(true)
  expect(await stopNode(first)).toBe(0)
  expect((await readdir(join(dataDir, 'cache'))).sort()).toEqual(['host-facts.json', 'sandbox-probe.json'])

  const second = spawnNode(dataDir, ['--log-level', 'info'])
  await waitReady(second)
  expect(await sandboxFinding(second)).toEqual(probed)
  await waitFor(async () => (await nodeApi<{ ready: boolean }>(second, 'GET', '/v1/ready')).body.ready)
  expect(await stopNode(second)).toBe(0)
})
