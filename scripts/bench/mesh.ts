/**
 * A local mesh of real `gryphgen start` processes on loopback (mDNS off, ports chosen by the
 * OS, data dirs in a temp folder), for benchmarks and the demo: start, call the API, follow
 * every node's task events, stop every process by PID and remove the folders.
 */
import '../../base/polyfill.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createWriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/gryphgen.js', import.meta.url))

export interface MeshNode { name: string, dir: string, child: ChildProcess, url: string, token: string, peerId: string, address: string }
export interface NodeSpec { name: string, config?: Record<string, unknown> }

const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Poll `fn` until it returns something (errors count as nothing yet), bounded by time. */
export async function until<T> (fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms`)
}

export async function api<T> (node: Pick<MeshNode, 'url' | 'token'>, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(node.url + path, {
    method,
    headers: { authorization: `Bearer ${node.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const json = await res.json() as T
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`)
  return json
}

export class LocalMesh {
  readonly nodes: MeshNode[] = []
  #root = ''

  /**
   * `patienceMs`: how long each node may take to start, and the mesh to form (default 120 s: a crowded machine starts nodes slowly).
   * `logFiles`: each node's stdout and stderr go to `<its dir>/node.log` (else its stderr to this process's, its stdout nowhere).
   */
  async start (specs: NodeSpec[], options: { logLevel?: string, patienceMs?: number, logFiles?: boolean } = {}): Promise<MeshNode[]> {
    const patienceMs = options.patienceMs ?? 120_000
    this.#root = await mkdtemp(join(tmpdir(), 'gryphgen-mesh-'))
    for (const [i, spec] of specs.entries()) {
      const dir = join(this.#root, spec.name)
      await mkdir(dir, { recursive: true })
      if (i > 0) await copyFile(join(this.nodes[0].dir, 'swarm.key'), join(dir, 'swarm.key'))
      await writeFile(join(dir, 'gryphgen.json'), JSON.stringify({ name: spec.name, mdns: false, ...spec.config }))
      const boot = i > 0 ? ['--bootstrap', this.nodes[0].address] : []
      // BENCH_NODE_ARGS: extra Node flags for the node processes (e.g. --cpu-prof).
      const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(a => a !== '')
      const child = spawn(process.execPath, ['--max-semi-space-size=4', ...nodeArgs, BIN, 'start', '--data-dir', dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--log-level', options.logLevel ?? 'warn', ...boot], { stdio: ['ignore', options.logFiles === true ? 'pipe' : 'ignore', options.logFiles === true ? 'pipe' : 'inherit'] })
      if (options.logFiles === true) {
        const out = createWriteStream(join(dir, 'node.log'), { flags: 'a' })
        child.stdout?.pipe(out)
        child.stderr?.pipe(out)
      }
      const node: MeshNode = { name: spec.name, dir, child, url: '', token: '', peerId: '', address: '' }
      this.nodes.push(node)
      node.url = await until(async () => `http://127.0.0.1:${(await readFile(join(dir, 'api-port'), 'utf8')).trim()}`, patienceMs)
      node.token = (await readFile(join(dir, 'api-token'), 'utf8')).trim()
      const self = await until(async () => api<{ peerId: string, addresses: string[] }>(node, 'GET', '/v1/node'), patienceMs)
      node.peerId = self.peerId
      node.address = self.addresses[0]
    }
    await until(async () => {
      for (const n of this.nodes) if ((await api<{ peers: unknown[] }>(n, 'GET', '/v1/peers')).peers.length < this.nodes.length - 1) return undefined
      return true
    }, patienceMs, 100)
    return this.nodes
  }

  byPeer (peerId: string): MeshNode | undefined { return this.nodes.find(n => n.peerId === peerId) }

  /** The folder that holds every node's data dir (and logs). */
  get root (): string { return this.#root }

  /** Stops every node; `keep`: leave the folder (data dirs, logs) for inspection. */
  async stop (options: { keep?: boolean } = {}): Promise<void> {
    await Promise.all(this.nodes.map(async n => {
      if (n.child.exitCode !== null || n.child.signalCode !== null) return
      const exited = new Promise(resolve => n.child.once('exit', resolve))
      n.child.kill('SIGTERM')
      const t = setTimeout(() => n.child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(t)
    }))
    if (this.#root !== '' && options.keep !== true) await rm(this.#root, { recursive: true, force: true })
  }
}

export interface StateEvent { id: string, state: string, attempts: Array<{ node: string }> }

/** The Server-Sent Events blocks of a response body, one at a time, as they arrive. */
export async function * sseBlocks (body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let cut
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      // Events carry an `id:` line first (for Last-Event-ID); blocks are read by their `event:`.
      const block = buffer.slice(0, cut)
      yield block.startsWith('id: ') ? block.slice(block.indexOf('\n') + 1) : block
      buffer = buffer.slice(cut + 2)
    }
  }
}

/** Follow `GET /v1/events` (every task's state changes) of a node until `signal` aborts. */
/** `opened`: called once the node has answered (it is subscribed: no later event is missed). */
export async function followEvents (node: MeshNode, onState: (event: StateEvent) => void, signal: AbortSignal, states?: string[], opened?: () => void): Promise<void> {
  const res = await fetch(`${node.url}/v1/events${states === undefined ? '' : `?states=${states.join(',')}`}`, { headers: { authorization: `Bearer ${node.token}` }, signal })
  opened?.()
  try {
    for await (const block of sseBlocks(res.body as ReadableStream<Uint8Array>)) {
      if (!block.startsWith('event: state\n')) continue
      onState(JSON.parse(block.slice(block.indexOf('data: ') + 6)) as StateEvent)
    }
  } catch (err) {
    if (!signal.aborted) throw err
  }
}
