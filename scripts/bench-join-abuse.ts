/**
 * Join under abuse (issue 15, item 1). One command: `npm run bench:join-abuse`. A node on
 * loopback; a new peer with the swarm key joins it (from its start until both list each
 * other from adverts; counted from the end of its start()): first with nothing else going on, then while 50 idle TCP sockets
 * (reopened as soon as they close) and 1,000 garbage connections hit the node's libp2p port
 * (scripts/bench/abuse.ts). Prints both join times (median of --rounds, default 3), their
 * ratio, and the abused join against the 5 s target; and how long the node holds one idle socket. All nodes in this process (mDNS off,
 * loopback only); the abuse too, so it loads the same cores as the node.
 */
import '../base/polyfill.js'
import { connect } from 'node:net'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { GryphgenNode } from '../node/node.js'
import { resolveConfig } from '../node/config/index.js'
import { newSwarmKeyHex, writeSwarmKey } from '../node/datadir/index.js'
import { silentLogger } from '../base/index.js'
import { startAbuse } from './bench/abuse.js'
import './bench/busy.js' // --busy: a standard CPU load beside this run (scripts/bench/busy.ts)

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } })
const ROUNDS = Number(values.rounds)
const TARGET_MS = 5000
const TIMEOUT_MS = 60_000

const dirs: string[] = []
/** A node on loopback in this process: port 0, no workers, mDNS off, its own data dir. */
async function startNode (swarmKey: string, name: string, bootstrap: string[] = []): Promise<GryphgenNode> {
  const dataDir = await mkdtemp(joinPath(tmpdir(), 'gryphgen-bench-join-'))
  dirs.push(dataDir)
  await writeSwarmKey(dataDir, swarmKey)
  const settings = { name, bootstrap, listen: ['/ip4/127.0.0.1/tcp/0'], apiHost: '127.0.0.1', apiPort: 0, mdns: false, logLevel: 'silent', workers: { exec: { size: 0 }, model: { size: 0 } } }
  const node = new GryphgenNode({ config: resolveConfig({ dataDir, file: { path: 'bench', text: JSON.stringify(settings) } }), logger: silentLogger() })
  await node.start()
  return node
}

const knows = (a: GryphgenNode, b: GryphgenNode): boolean => a.peers().some(p => p.peerId === b.peerId)
const startupMs: number[] = []
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Milliseconds from the joiner's start() resolving to both nodes listing each other (Infinity: not within TIMEOUT_MS). */
async function join (target: GryphgenNode, swarmKey: string, name: string): Promise<number> {
  const begun = performance.now()
  const joiner = await startNode(swarmKey, name, target.addresses())
  // From the end of start() (the mesh is up and dialing): the node's own start-up is no part of the join.
  const started = performance.now()
  startupMs.push(started - begun)
  try {
    while (!(knows(target, joiner) && knows(joiner, target))) {
      if (performance.now() - started > TIMEOUT_MS) {
        process.stdout.write(`${name} did not join within ${TIMEOUT_MS} ms; its bootstrap dials: ${JSON.stringify((await joiner.describe()).bootstrap)}; its connections: ${joiner.mesh.getConnections().length}\n`)
        return Infinity
      }
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    return performance.now() - started
  } finally {
    await joiner.stop()
  }
}

const swarmKey = newSwarmKeyHex()
const target = await startNode(swarmKey, 'target')
const port = Number(multiaddr(target.addresses()[0]).getComponents().find(c => c.name === 'tcp')?.value)
/** Milliseconds until the node drops a TCP socket that sends nothing (the pnet handshake deadline). */
async function idleDropMs (): Promise<number> {
  const started = performance.now()
  const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.4' })
  socket.on('error', () => {})
  socket.on('data', () => {})
  const timer = setTimeout(() => socket.destroy(), TIMEOUT_MS)
  await new Promise(resolve => socket.once('close', resolve))
  clearTimeout(timer)
  return performance.now() - started
}

const quiet: number[] = []
const abused: number[] = []
try {
  process.stdout.write(`an idle socket is dropped after ${(await idleDropMs()).toFixed(0)} ms (pnet handshake deadline; libp2p's default upgrade timeout is 10000 ms)\n`)
  for (let r = 0; r < ROUNDS; r++) {
    quiet.push(await join(target, swarmKey, `quiet-${r}`))
    const abuse = startAbuse({ port, idle: 50, garbage: 1000 })
    try {
      while (abuse.stats.idleOpen < 50 || abuse.stats.garbageSent < 100) await new Promise(resolve => setTimeout(resolve, 10))
      abused.push(await join(target, swarmKey, `abused-${r}`))
    } finally {
      await abuse.stop()
    }
    process.stdout.write(`round ${r + 1}: quiet ${quiet[r].toFixed(0)} ms, under abuse ${abused[r].toFixed(0)} ms (idle sockets reopened ${abuse.stats.idleOpened - 50}, garbage sent ${abuse.stats.garbageSent})\n`)
  }
} finally {
  await target.stop()
  await Promise.all(dirs.map(async d => await rm(d, { recursive: true, force: true })))
}
const q = median(quiet)
const a = median(abused)
process.stdout.write(`join without abuse: ${q.toFixed(0)} ms (median of ${ROUNDS})\n`)
process.stdout.write(`join under abuse (50 idle sockets, 1,000 garbage connections): ${a.toFixed(0)} ms (median of ${ROUNDS})\n`)
process.stdout.write(`(joiner start-up, not counted: ${median(startupMs).toFixed(0)} ms median)\n`)
process.stdout.write(`ratio abused/quiet: ${(a / q).toFixed(2)}; target under ${TARGET_MS} ms: ${a < TARGET_MS ? 'met' : 'MISSED'}\n`)
