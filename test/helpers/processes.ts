/** Run `gryphgen` as real processes; every started process is tracked and killed by PID. */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PATIENCE_MS, waitFor } from './nodes.js'

export const BIN = fileURLToPath(new URL('../../bin/gryphgen.js', import.meta.url))

export interface NodeProcess {
  child: ChildProcess
  dataDir: string
  output: () => string
  apiUrl: () => Promise<string>
  token: () => Promise<string>
}

const children = new Set<ChildProcess>()

/** Flags every test node gets: loopback only, any free ports, no mDNS. */
export const LOOPBACK_FLAGS = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0']

export function spawnNode (dataDir: string, extra: string[] = [], env: Record<string, string> = {}): NodeProcess {
  return tracked(spawn(process.execPath, ['--max-semi-space-size=4', BIN, 'start', '--data-dir', dataDir, ...LOOPBACK_FLAGS, ...extra], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }), dataDir)
}

/** `npm start` in the repository, as the README's quick start runs a node: npm is the child. */
export function spawnNpmStart (dataDir: string): NodeProcess {
  return tracked(spawn('npm', ['start', '--', '--data-dir', dataDir, ...LOOPBACK_FLAGS], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }), dataDir)
}

function tracked (child: ChildProcess, dataDir: string): NodeProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  return {
    child,
    dataDir,
    output: () => out,
    apiUrl: async () => `http://127.0.0.1:${(await readFile(join(dataDir, 'api-port'), 'utf8')).trim()}`,
    token: async () => (await readFile(join(dataDir, 'api-token'), 'utf8')).trim(),
  }
}

/** PIDs of live processes whose command line mentions `text` (e.g. a node's data dir). */
export async function pidsMentioning (text: string): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.includes(text)) pids.push(Number(entry))
  }
  return pids
}

export async function waitReady (node: NodeProcess, timeoutMs = PATIENCE_MS): Promise<void> {
  await waitFor(() => {
    if (node.child.exitCode !== null) throw new Error(`node exited with ${node.child.exitCode}: ${node.output()}`)
    return node.output().includes('gryphgen node started')
  }, timeoutMs, 50)
}

export interface CliResult { code: number | null, stdout: string, stderr: string }

export async function runCli (args: string[], options: { env?: Record<string, string>, timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(options.timeoutMs ?? 0, PATIENCE_MS))
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  children.delete(child)
  return { code, stdout, stderr }
}

/** Stop a node with SIGTERM and wait for its exit code. */
export async function stopNode (node: NodeProcess, timeoutMs = 30_000): Promise<number | null> {
  if (node.child.exitCode !== null) return node.child.exitCode
  const exited = new Promise<number | null>(resolve => node.child.once('exit', resolve))
  node.child.kill('SIGTERM')
  const timer = setTimeout(() => node.child.kill('SIGKILL'), timeoutMs)
  const code = await exited
  clearTimeout(timer)
  return code
}

export async function killAll (): Promise<void> {
  await Promise.all([...children].map(async child => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }))
}

/** Call a node's HTTP API with its bearer token; the parsed JSON body and status. */
export async function nodeApi<T> (node: NodeProcess, method: string, path: string, body?: unknown): Promise<{ status: number, body: T }> {
  const res = await fetch(await node.apiUrl() + path, {
    method,
    headers: { authorization: `Bearer ${await node.token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(PATIENCE_MS),
  })
  return { status: res.status, body: await res.json() as T }
}

/** Write `gryphgen.json` into dir and start a node there, bootstrapping from an address when given. */
export async function startNode (dir: string, config: Record<string, unknown>, bootstrap?: string): Promise<NodeProcess> {
  await writeFile(join(dir, 'gryphgen.json'), JSON.stringify(config))
  const node = spawnNode(dir, bootstrap === undefined ? [] : ['--bootstrap', bootstrap])
  await waitReady(node)
  return node
}
