/**
 * Chaos run (issue 15, item 2): `npm run chaos`. A 4-node mesh of real `gryphgen start`
 * processes on loopback (mDNS off, ports chosen by the OS, data dirs in a temp folder) runs
 * 300 `exec` tasks (`sleep 0.5` in the sandbox) submitted round-robin to the live nodes,
 * while, twice, one node is killed with SIGKILL and another restarted (SIGTERM, start again);
 * the killed node comes back in the next round. Then every node's ledger is read and it prints:
 * submitted, succeeded, failed, lost (not ended by the deadline), attempts awarded twice
 * (two `awarded` entries for one task and attempt, whatever the fold kept), terminal tasks
 * re-run (a `started` entry after the entry that ended the task; counted apart when that
 * entry's node died or restarted before it reached anyone), tasks that ran twice (and
 * how many of those had a run on a node that died or restarted mid-run), ledgers identical.
 * Targets: 0 failed (a sleep cannot fail on its own), 0 attempts awarded twice, 0 terminal tasks re-run, ran twice only where a node
 * died mid-run. Bounded: --tasks (300), --sleep seconds (0.5), --deadline seconds (240, from
 * the moment the mesh is up; tasks not ended by then count as lost).
 * Exit code 1 when a target is missed. Every process is stopped by PID, the folder removed
 * (--keep keeps it, with each node's log).
 */
import '../base/polyfill.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createWriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { api, until } from './bench/mesh.js'
import { canonicalOrder } from '../ledger/index.js'
import type { Entry } from '../protocols/index.js'

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '300' }, sleep: { type: 'string', default: '0.5' }, deadline: { type: 'string', default: '240' }, keep: { type: 'boolean', default: false } } })
const TASKS = Number(values.tasks)
const BIN = fileURLToPath(new URL('../bin/gryphgen.js', import.meta.url))
// As the process tests: leases of 6 s so a busy machine's stalls do not look like deaths.
const CONFIG = { mdns: false, auction: { leaseMs: 6000, heartbeatMs: 500 }, advert: { baseIntervalMs: 2000, maxReceiveRate: 20 }, workers: { exec: { size: 1 }, model: { size: 0 } } }
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])
/** Submissions stop, and waiting for tasks to end gives up, this long after the mesh is up. */
let deadline = Infinity

interface ChaosNode { name: string, dir: string, child?: ChildProcess, url: string, token: string, peerId: string, address: string }
type Stored = Entry & { id: string }

const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const log = (line: string): void => { process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`) }
const alive = (n: ChaosNode): boolean => n.child !== undefined && n.child.exitCode === null && n.child.signalCode === null

let root = ''
const nodes: ChaosNode[] = []

async function start (node: ChaosNode, bootstrap: string[]): Promise<void> {
  await rm(join(node.dir, 'api-port'), { force: true }) // a killed node leaves its own behind
  const out = createWriteStream(join(node.dir, 'node.log'), { flags: 'a' })
  const child = spawn(process.execPath, ['--max-semi-space-size=4', BIN, 'start', '--data-dir', node.dir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--log-level', 'warn', ...bootstrap.flatMap(a => ['--bootstrap', a])], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.pipe(out)
  child.stderr.pipe(out)
  node.child = child
  node.url = await until(async () => { if (!alive(node)) throw new Error(`${node.name} exited`); return `http://127.0.0.1:${(await readFile(join(node.dir, 'api-port'), 'utf8')).trim()}` }, 180_000, 50)
  node.token = (await readFile(join(node.dir, 'api-token'), 'utf8')).trim()
  const self = await until(async () => api<{ peerId: string, addresses: string[] }>(node, 'GET', '/v1/node'), 180_000)
  node.peerId = self.peerId
  node.address = self.addresses[0]
}

async function stop (node: ChaosNode, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const child = node.child
  if (child === undefined || !alive(node)) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  await exited
  clearTimeout(timer)
}

const liveAddresses = (except: ChaosNode): string[] => nodes.filter(n => n !== except && alive(n)).map(n => n.address)

async function restart (node: ChaosNode): Promise<void> { await stop(node, 'SIGTERM'); await start(node, liveAddresses(node)) }

/** Disruptions: who died (kill -9) or restarted, and when (ms since the epoch). */
const disrupted: Array<{ node: string, at: number, how: string }> = []

async function chaos (): Promise<void> {
  const [n0, n1, n2, n3] = nodes
  const round = async (kill: ChaosNode, again: ChaosNode, back?: ChaosNode): Promise<void> => {
    if (back !== undefined) { await start(back, liveAddresses(back)); log(`${back.name} started again after its kill`) }
    disrupted.push({ node: kill.peerId, at: Date.now(), how: 'kill -9' })
    await stop(kill, 'SIGKILL')
    log(`${kill.name} killed (SIGKILL)`)
    disrupted.push({ node: again.peerId, at: Date.now(), how: 'restart' })
    await restart(again)
    log(`${again.name} restarted`)
  }
  await sleep(4000)
  await round(n1, n2)
  await sleep(8000)
  await round(n3, n0, n1)
  await sleep(6000)
  await start(n3, liveAddresses(n3))
  log(`${n3.name} started again after its kill`)
}

/** Four submitters, round-robin over the live nodes; a submission a dying node does not answer is tried at the next. */
async function submitAll (): Promise<string[]> {
  const ids: string[] = []
  let next = 0
  let claimed = 0
  const submitter = async (): Promise<void> => {
    while (claimed < TASKS && Date.now() < deadline) {
      claimed++
      let id: string | undefined
      while (id === undefined && Date.now() < deadline) {
        const live = nodes.filter(alive)
        const node = live[next++ % Math.max(1, live.length)]
        id = node === undefined ? undefined : (await api<{ id: string }>(node, 'POST', '/v1/tasks', { kind: 'exec', command: ['sleep', values.sleep], requirements: { cpus: 1, memoryMb: 64 } }).catch(() => undefined))?.id
        if (id === undefined) await sleep(100)
      }
      if (id !== undefined) ids.push(id)
      await sleep(20)
    }
  }
  await Promise.all([submitter(), submitter(), submitter(), submitter()])
  return ids
}

async function finalStates (ids: string[]): Promise<Map<string, string>> {
  const states = new Map<string, string>()
  await until(async () => {
    const node = nodes.find(alive)
    if (node === undefined) return undefined
    for (const id of ids) {
      if (TERMINAL.has(states.get(id) ?? '')) continue
      states.set(id, (await api<{ state: string }>(node, 'GET', `/v1/tasks/${id}`).catch(() => ({ state: 'unknown' }))).state)
    }
    return [...states.values()].every(s => TERMINAL.has(s)) ? true : undefined
  }, Math.max(1000, deadline - Date.now()), 1000).catch(() => {})
  return states
}

/** One line per failed task: each attempt's node, outcome and error. */
async function explainFailures (ids: string[]): Promise<string[]> {
  const node = nodes.find(alive)
  if (node === undefined) return []
  return await Promise.all(ids.map(async id => {
    const view = await api<{ error?: string, attempts: Array<{ attempt: number, node: string, outcome?: string, error?: string }> }>(node, 'GET', `/v1/tasks/${id}`).catch(() => ({ error: undefined, attempts: [] }))
    const name = (peer: string): string => nodes.find(n => n.peerId === peer)?.name ?? peer.slice(-6)
    return `  ${id}: ${view.attempts.map(a => `#${a.attempt} ${name(a.node)} ${a.outcome ?? 'open'}${a.error === undefined ? '' : ` (${a.error})`}`).join('; ')}: ${view.error ?? ''}`
  }))
}

/** Every node's version vector the same (waits up to 120 s for sync to settle). */
async function ledgersConverge (): Promise<boolean> {
  return await until(async () => {
    const vvs = await Promise.all(nodes.map(async n => JSON.stringify(Object.entries((await api<{ versionVector: Record<string, number> }>(n, 'GET', '/v1/ledger/status')).versionVector).sort())))
    return vvs.every(v => v === vvs[0]) ? true : undefined
  }, 120_000, 500).catch(() => false)
}

interface Figures { awardedTwice: number, terminalReRun: number, reRunLostFinish: number, ranTwice: number, ranTwiceDisrupted: number, historiesIdentical: boolean }

async function analyse (ids: string[]): Promise<Figures> {
  const f: Figures = { awardedTwice: 0, terminalReRun: 0, reRunLostFinish: 0, ranTwice: 0, ranTwiceDisrupted: 0, historiesIdentical: true }
  const hit = new Set(disrupted.map(d => d.node))
  for (const id of ids) {
    const histories = await Promise.all(nodes.map(async n => (await api<{ entries: Stored[] }>(n, 'GET', `/v1/tasks/${id}/history`).catch(() => ({ entries: [] }))).entries))
    const key = (h: Stored[]): string => h.map(e => e.id).sort().join()
    if (histories.some(h => key(h) !== key(histories[0]))) f.historiesIdentical = false
    const union = new Map<string, Stored>()
    for (const h of histories) for (const e of h) union.set(e.id, e)
    const entries = [...union.values()].sort(canonicalOrder)
    const awards = new Map<number, number>()
    for (const e of entries) if (e.type === 'awarded') awards.set(e.body.attempt as number, (awards.get(e.body.attempt as number) ?? 0) + 1)
    f.awardedTwice += [...awards.values()].filter(n => n > 1).length
    // The first entry after which the task was over: the first finish of an attempt, or a cancel.
    const end = entries.findIndex(e => e.type === 'cancelled' || (e.type === 'finished' && e.body.outcome === 'succeeded'))
    // A finish written just before its node was killed or restarted reached nobody until the
    // node came back: the mesh saw no terminal task (at-least-once), so that is counted apart.
    if (end >= 0 && entries.slice(end + 1).some(e => e.type === 'started')) {
      if (hit.has(entries[end].author)) f.reRunLostFinish++
      else f.terminalReRun++
    }
    const started = entries.filter(e => e.type === 'started')
    if (started.length > 1) {
      f.ranTwice++
      // Explained when every run but the one that decided was on a node killed or restarted.
      const decided = entries.find(e => e.type === 'finished' && e.body.outcome === 'succeeded')
      if (started.filter(e => e.body.attempt !== decided?.body.attempt).every(e => hit.has(e.author))) f.ranTwiceDisrupted++
    }
  }
  return f
}

async function main (): Promise<void> {
  root = await mkdtemp(join(tmpdir(), 'gryphgen-chaos-'))
  for (const name of ['n0', 'n1', 'n2', 'n3']) {
    const dir = join(root, name)
    await mkdir(dir, { recursive: true })
    if (nodes.length > 0) await copyFile(join(nodes[0].dir, 'swarm.key'), join(dir, 'swarm.key'))
    await writeFile(join(dir, 'gryphgen.json'), JSON.stringify({ name, ...CONFIG }))
    const node: ChaosNode = { name, dir, url: '', token: '', peerId: '', address: '' }
    nodes.push(node)
    await start(node, nodes.length > 1 ? [nodes[0].address] : [])
  }
  await until(async () => {
    for (const n of nodes) {
      const peers = (await api<{ peers: Array<{ capabilities: { sandbox: { available: boolean } | null } }> }>(n, 'GET', '/v1/peers')).peers
      if (peers.length < 3 || !peers.every(p => p.capabilities.sandbox?.available === true)) return undefined
    }
    return true
  }, 180_000, 200)
  deadline = Date.now() + Number(values.deadline) * 1000
  log(`4 nodes up (${root}); submitting ${TASKS} tasks (exec sleep ${values.sleep}) while nodes are killed and restarted`)
  const [ids] = await Promise.all([submitAll(), chaos()])
  log(`${ids.length} submitted; waiting for every task to end`)
  const states = await finalStates(ids)
  for (const n of nodes) if (!alive(n)) await start(n, liveAddresses(n))
  const identical = await ledgersConverge()
  const f = await analyse(ids)
  const failures = await explainFailures(ids.filter(id => states.get(id) === 'failed'))
  const count = (s: string): number => [...states.values()].filter(v => v === s).length
  const lost = ids.length - count('succeeded') - count('failed') - count('cancelled')
  // No task can fail on its own here (exec sleep): a failed one is an infrastructure fault that ended a user's task.
  const ok = count('failed') === 0 && f.awardedTwice === 0 && f.terminalReRun === 0 && f.ranTwice === f.ranTwiceDisrupted && lost === 0 && identical && f.historiesIdentical
  process.stdout.write([
    '',
    `disruptions:             ${disrupted.map(d => `${d.how} ${nodes.find(n => n.peerId === d.node)?.name ?? d.node}`).join(', ')}`,
    `submitted:               ${ids.length}`,
    `succeeded:               ${count('succeeded')}`,
    `failed:                  ${count('failed')}`,
    ...failures,
    `lost:                    ${lost}`,
    `attempts awarded twice:  ${f.awardedTwice}`,
    `terminal tasks re-run:   ${f.terminalReRun} (and ${f.reRunLostFinish} run again after a finish whose node was killed or restarted before the finish reached any other node)`,
    `ran twice:               ${f.ranTwice} (${f.ranTwiceDisrupted} with the other run on a node killed or restarted mid-run)`,
    `ledgers identical:       ${identical && f.historiesIdentical ? 'yes' : 'no'} (version vectors ${identical ? 'equal' : 'differ'}, task histories ${f.historiesIdentical ? 'equal' : 'differ'})`,
    `targets:                 ${ok ? 'met' : 'MISSED'}`,
    '',
  ].join('\n'))
  process.exitCode = ok ? 0 : 1
}

// Interrupted (Ctrl-C, a timeout): stop every node process before leaving.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all(nodes.map(async n => stop(n, 'SIGKILL'))).finally(() => process.exit(130))
  })
}

try {
  await main()
} catch (err) {
  process.stdout.write(`chaos run failed: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
} finally {
  await Promise.all(nodes.map(async n => stop(n, 'SIGTERM')))
  if (values.keep) log(`kept ${root}`)
  else if (root !== '') await rm(root, { recursive: true, force: true })
}
