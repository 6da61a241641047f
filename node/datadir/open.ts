/**
 * Opening a data dir for a starting node: create it, bring its format up to date (or refuse a
 * newer one), then load or create the identity, swarm key and API token, warning about what a
 * user should know (secrets readable by others, a new mesh created).
 */
import type { PrivateKey } from '@libp2p/interface'
import { ensureDir, type Logger } from '../../base/index.js'
import { ensureDataDirFormat } from './format.js'
import { dataPath, loadOrCreateApiToken, loadOrCreateIdentity, loadOrCreateSwarmKey, secretsTooOpen, type SwarmKeyHex } from './index.js'

export interface OpenedDataDir {
  identity: { key: PrivateKey, created: boolean }
  swarmKey: SwarmKeyHex
  token: string
}

export async function openDataDir (dataDir: string, version: string, log: Logger): Promise<OpenedDataDir> {
  await ensureDir(dataDir)
  const format = await ensureDataDirFormat(dataDir, version)
  if (format.migrated) log.info({ from: format.found, to: format.format }, 'migrated the data dir to the current format')
  const [identity, swarm, token] = await Promise.all([
    loadOrCreateIdentity(dataDir), loadOrCreateSwarmKey(dataDir), loadOrCreateApiToken(dataDir),
  ])
  const exposed = await secretsTooOpen(dataDir)
  if (exposed.length > 0) log.warn({ files: exposed }, 'secret files readable by other users: chmod 600 them')
  if (swarm.created) log.warn({ swarmKey: dataPath(dataDir, 'swarmKey') }, 'created a new mesh (new swarm key); other machines join it with `gryphgen invite`')
  return { identity, swarmKey: swarm.key, token }
}
