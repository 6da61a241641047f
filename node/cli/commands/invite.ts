/** `gryphgen invite`: print, alone on stdout, the string another machine joins with. */
import { multiaddr } from '@multiformats/multiaddr'
import { isLoopback } from '@libp2p/utils'
import { encodeInvite } from '../../../protocols/index.js'
import { DataDirError, NodeNotRunningError } from '../../../base/index.js'
import { readSwarmKey } from '../../datadir/index.js'
import type { NodeBodyT } from '../../api/index.js'
import { apiRequest, type LocalNode } from '../client.js'

/** Addresses other machines can dial first; loopback last (still useful on one host). */
export function orderForInvite (addresses: readonly string[]): string[] {
  const loop = (a: string): boolean => { try { return isLoopback(multiaddr(a)) } catch { return true } }
  return [...addresses.filter(a => !loop(a)), ...addresses.filter(loop)].slice(0, 32)
}

export async function inviteCommand (dataDir: string, local: LocalNode): Promise<string> {
  const psk = await readSwarmKey(dataDir)
  if (psk === undefined) throw new DataDirError(`${dataDir} has no swarm.key: run \`gryphgen init\` or \`gryphgen start\` first`)
  const node = await apiRequest<NodeBodyT>(local, 'GET', '/v1/node').catch((err: Error) => {
    if (!(err instanceof NodeNotRunningError)) throw err
    throw new NodeNotRunningError(`invite needs the running node: it reads the addresses the node listens on. Start it (\`gryphgen start --data-dir ${dataDir}\`, or \`npm start\` in a checkout), then run \`gryphgen invite\` again. (${err.message})`, { cause: err })
  })
  const addrs = orderForInvite(node.addresses)
  if (addrs.length === 0) throw new NodeNotRunningError('the node has no listen addresses to invite others to')
  return encodeInvite({ psk, addrs })
}
