/** The I/O side of `gryphgen doctor`: read the data dir, ask the node, probe bootstrap TCP ports (doctor's own list and the running node's). */
import { connect } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { getNetConfig } from '@libp2p/utils'
import { readBootstrapFile, readSwarmKey, dataPath, readIfExists } from '../datadir/index.js'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import type { NodeBodyT, PeerViewT } from '../api/index.js'
import { apiRequest, findLocalNode } from '../cli/client.js'
import type { DoctorFacts } from './diagnose.js'

/** A TCP probe's wait: generous enough for a busy machine, short enough for a person waiting. */
const TCP_PROBE_MS = 5000

export async function tcpReachable (address: string, timeoutMs: number, signal?: AbortSignal): Promise<{ tcpOk: boolean, error?: string }> {
  let host: string
  let port: number
  try {
    const net = getNetConfig(multiaddr(address))
    if (net.port === undefined || net.protocol !== 'tcp') throw new Error('no TCP port')
    host = net.host
    port = net.port
  } catch (err) {
    return { tcpOk: false, error: `not a TCP multiaddr (${(err as Error).message})` }
  }
  return new Promise(resolve => {
    const socket = connect({ host, port, timeout: timeoutMs, signal })
    const done = (result: { tcpOk: boolean, error?: string }): void => { socket.destroy(); resolve(result) }
    socket.once('connect', () => { done({ tcpOk: true }) })
    socket.once('timeout', () => { done({ tcpOk: false, error: `no answer within ${timeoutMs} ms` }) })
    socket.once('error', (err: NodeJS.ErrnoException) => { done({ tcpOk: false, error: err.code ?? err.message }) })
  })
}

export async function gatherFacts (dataDir: string, bootstrap: readonly string[], apiHost: string, signal?: AbortSignal): Promise<DoctorFacts> {
  const fileErrors: string[] = []
  let hasSwarmKey = false
  try { hasSwarmKey = (await readSwarmKey(dataDir)) !== undefined } catch (err) { fileErrors.push((err as Error).message) }
  const identity = await readIfExists(dataPath(dataDir, 'identity')).catch((err: Error) => { fileErrors.push(err.message); return undefined })
  if (identity !== undefined) {
    try { privateKeyFromProtobuf(identity) } catch { fileErrors.push(`${dataPath(dataDir, 'identity')} is corrupt`) }
  }
  const invited = await readBootstrapFile(dataDir).catch((err: Error) => { fileErrors.push(err.message); return [] })
  const facts: DoctorFacts = { dataDir, fileErrors, hasSwarmKey, bootstrapReachability: [], now: Date.now() }
  try {
    const local = await findLocalNode(dataDir, apiHost)
    facts.node = await apiRequest<NodeBodyT>(local, 'GET', '/v1/node', { signal })
    facts.peers = (await apiRequest<{ peers: PeerViewT[] }>(local, 'GET', '/v1/peers', { signal })).peers
  } catch (err) {
    facts.notRunning = (err as Error).message
  }
  // What the running node actually dials (its --bootstrap flags, config, invite, remembered peers) with doctor's own.
  const targets = [...new Set([...bootstrap, ...invited, ...facts.node?.bootstrapAddresses ?? []])]
  facts.bootstrapReachability = await Promise.all(targets.map(async address => ({ address, ...await tcpReachable(address, TCP_PROBE_MS, signal) })))
  return facts
}
