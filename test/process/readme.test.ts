/**
 * The README doc test: every shell block of README.md runs, in order, as a user would type it,
 * against a 2-process loopback mesh, so the README cannot drift from what the code does.
 *
 * Convention for README authors (details in test/helpers/readme-blocks.ts and README.md,
 * Development): every ```sh / ```bash block is runnable unless the line right before its fence
 * is `<!-- doctest: skip (reason) -->`; `<!-- doctest: machine NAME -->` runs it as another
 * machine, `<!-- doctest: in-repo -->` in the repository's root, `<!-- doctest: timeout S -->`
 * gives it longer than 60 s; `# -> TEXT` says what it prints (`…` = any text in a line).
 *
 * What the test sets up, as the README assumes it:
 * - machine A (the default) is a running node whose data dir is `~/.gryphgen` (HOME is a temp
 *   folder), joined by a second node labelled `ci`; other machines start with nothing;
 * - `gryphgen` on PATH (a temp bin folder linking bin/gryphgen.js);
 * - each machine's API port is a free port: `7411` in its blocks is replaced by that port, and
 *   GRYPHGEN_API_PORT, GRYPHGEN_LISTEN (loopback, any port) and GRYPHGEN_MDNS=false are set so
 *   a `gryphgen start` in a block stays on loopback;
 * - blocks of one machine share a shell session: its folder (a temp folder inside the
 *   repository's .tmp/, so `npm run` finds the checkout as from a folder of a clone) and the
 *   shell variables each block sets carry over to the next.
 * Processes a block leaves running (`gryphgen start &`) are found by an environment marker and
 * stopped by PID at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../helpers/nodes.js'
import { BIN, killAll, nodeApi, runCli, spawnNode, waitReady, type NodeProcess } from '../helpers/processes.js'
import { DEFAULT_MACHINE, expectations, matchOutput, shellBlocks, substitute, type ShellBlock } from '../helpers/readme-blocks.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const README = await readFile(join(ROOT, 'README.md'), 'utf8')
const blocks = shellBlocks(README)
const runnable = blocks.filter(b => b.directives.skip === undefined)

/** Saves the session (folder, new shell variables) when the block ends, then runs it. */
const WRAPPER = `__state=$1
__before=" $(compgen -v | tr '\\n' ' ') "
__save () {
  pwd > "$__state/cwd"
  for __v in $(compgen -v); do
    case "$__v" in __*|FUNCNAME|BASH_*|PIPESTATUS|_) continue ;; esac
    case "$__before" in *" $__v "*) continue ;; esac
    declare -p "$__v"
  done > "$__state/vars.sh"
}
trap __save EXIT
source "$__state/vars.sh"
set -euo pipefail
source "$__state/block.sh"
`

interface Machine { name: string, home: string, port: number, state: string }

let work: string
let nodes: NodeProcess[] = []
const machines = new Map<string, Machine>()
const bindings = new Map<string, string>()

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise(resolve => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function machine (name: string): Promise<Machine> {
  const known = machines.get(name)
  if (known !== undefined) return known
  const base = join(work, 'machines', name)
  const m = { name, home: join(base, 'home'), port: await freePort(), state: join(base, 'session') }
  await mkdir(m.home, { recursive: true })
  await mkdir(m.state, { recursive: true })
  await mkdir(join(base, 'work'))
  await writeFile(join(m.state, 'cwd'), join(base, 'work'))
  await writeFile(join(m.state, 'vars.sh'), '')
  machines.set(name, m)
  return m
}

/** The environment of a user's shell on machine m: none of npm's or the test's own variables. */
function shellEnv (m: Machine): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(GRYPHGEN_|npm_|INIT_CWD$|VITEST|NODE_OPTIONS$)/.test(k)) env[k] = v
  }
  return {
    ...env,
    HOME: m.home,
    PATH: `${join(work, 'bin')}:${process.env.PATH ?? ''}`,
    GRYPHGEN_API_PORT: String(m.port),
    GRYPHGEN_LISTEN: '/ip4/127.0.0.1/tcp/0',
    GRYPHGEN_MDNS: 'false',
    README_DOCTEST: work,
    npm_config_update_notifier: 'false',
  }
}

interface BlockRun { code: number | null, signal: string | null, output: string }

async function runBlock (block: ShellBlock): Promise<BlockRun> {
  const m = await machine(block.directives.machine)
  const code = substitute(block.code, bindings).replace(/\b7411\b/g, String(m.port))
  await writeFile(join(m.state, 'block.sh'), code + '\n')
  const cwdBefore = (await readFile(join(m.state, 'cwd'), 'utf8')).trim()
  const outFile = join(m.state, `out-${block.line}.txt`)
  const fd = openSync(outFile, 'w')
  // Output goes to a file, not a pipe: a process the block leaves running keeps its stdout.
  const child = spawn('bash', ['-c', WRAPPER, 'doctest', m.state], {
    cwd: block.directives.inRepo ? ROOT : cwdBefore,
    env: shellEnv(m),
    stdio: ['ignore', fd, fd],
    detached: true,
  })
  closeSync(fd)
  const timer = setTimeout(() => {
    try { process.kill(-(child.pid ?? 0), 'SIGKILL') } catch {} // the block's process group (it ran detached)
  }, block.directives.timeoutS * 1000)
  const [status, signal] = await new Promise<[number | null, string | null]>((resolve, reject) => {
    child.once('exit', (c, s) => { resolve([c, s]) })
    child.once('error', reject)
  })
  clearTimeout(timer)
  if (block.directives.inRepo) await writeFile(join(m.state, 'cwd'), cwdBefore)
  return { code: status, signal, output: await readFile(outFile, 'utf8') }
}

/** PIDs of processes a block left running (they carry README_DOCTEST in their environment). */
async function leftRunning (): Promise<number[]> {
  const marker = `README_DOCTEST=${work}\0`
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '')
    if (environ.includes(marker)) pids.push(Number(entry))
  }
  return pids
}

async function stopLeftovers (): Promise<void> {
  const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }
  const pids = await leftRunning()
  for (const pid of pids) { try { process.kill(pid, 'SIGTERM') } catch {} }
  await waitFor(() => pids.every(p => !alive(p)), 30_000, 100).catch(() => {})
  for (const pid of pids.filter(alive)) { try { process.kill(pid, 'SIGKILL') } catch {} }
}

beforeAll(async () => {
  await mkdir(join(ROOT, '.tmp'), { recursive: true })
  work = await mkdtemp(join(ROOT, '.tmp', 'readme-'))
  await mkdir(join(work, 'bin'))
  await symlink(BIN, join(work, 'bin', 'gryphgen'))
  const a = await machine(DEFAULT_MACHINE)
  const first = spawnNode(join(a.home, '.gryphgen'), ['--api-port', String(a.port), '--name', 'machine-a'])
  await waitReady(first)
  const invite = await runCli(['invite', '--data-dir', join(a.home, '.gryphgen')])
  expect(invite.code, invite.stderr).toBe(0)
  const second = spawnNode(join(work, 'node-b'), ['--join', invite.stdout.trim(), '--label', 'ci', '--name', 'machine-b'])
  await waitReady(second)
  nodes = [first, second]
  await waitFor(async () => (await nodeApi<{ peers: unknown[] }>(first, 'GET', '/v1/peers')).body.peers.length === 1, 60_000, 200)
  await waitFor(() => first.output().includes('sandbox available'), 60_000, 100)
}, 300_000)

afterAll(async () => {
  if (work === undefined) return
  await stopLeftovers()
  await killAll()
  await rm(work, { recursive: true, force: true })
})

describe('README.md shell examples', () => {
  test('every shell block is runnable or says why not', () => {
    expect(runnable.length).toBeGreaterThan(5)
    for (const b of blocks) expect(b.directives.skip ?? 'runs', `README.md:${b.line}`).not.toBe('')
  })

  test.each(runnable.map(b => [`README.md:${b.line} (machine ${b.directives.machine})`, b] as const))('%s', async (name, block) => {
    const run = await runBlock(block)
    const code = substitute(block.code, bindings)
    expect(run.code, `${name} exited with ${run.code ?? run.signal} (timeout ${block.directives.timeoutS} s)\n--- block ---\n${code}\n--- output ---\n${run.output.slice(-4000)}`).toBe(0)
    for (const e of expectations(block)) {
      const found = matchOutput(e.text, run.output)
      expect(found, `README.md:${e.line}: expected output "${e.text}" not in the block's output:\n${run.output.slice(-4000)}`).toBeDefined()
      for (const [word, value] of found ?? []) bindings.set(word, value)
    }
  }, 660_000)
})
