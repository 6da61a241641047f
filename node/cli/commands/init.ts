/** `gryphgen init`: create a new mesh in a data dir (identity, swarm key, API token). */
import { DataDirError } from '../../../base/index.js'
import { dataPath, ensureDataDirFormat, ensureDir, loadOrCreateApiToken, loadOrCreateIdentity, loadOrCreateSwarmKey } from '../../datadir/index.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { VERSION } from '../../version.js'

export interface InitResult { dataDir: string, peerId: string, swarmKey: string }

export async function initCommand (dataDir: string): Promise<InitResult> {
  await ensureDir(dataDir)
  await ensureDataDirFormat(dataDir, VERSION)
  const swarm = await loadOrCreateSwarmKey(dataDir)
  if (!swarm.created) {
    throw new DataDirError(`${dataDir} already holds a mesh (swarm.key exists); start it with \`gryphgen start --data-dir ${dataDir}\`, or init another data dir`)
  }
  const identity = await loadOrCreateIdentity(dataDir)
  await loadOrCreateApiToken(dataDir)
  return { dataDir, peerId: peerIdFromPrivateKey(identity.key).toString(), swarmKey: dataPath(dataDir, 'swarmKey') }
}
