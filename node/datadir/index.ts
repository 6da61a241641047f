/**
 * The data dir: identity.key (Ed25519, 0600), swarm.key (pnet, 0600), api-token (0600),
 * bootstrap.json (addresses learned from an invite), api-port (while the node runs), and
 * the LevelDB folder. Missing files are created; corrupt or unreadable ones are a
 * DataDirError and are never replaced behind the user's back.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { rm } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { DataDirError, isTooOpen, readIfExists, writeFileDurable } from '../../base/index.js'
import { formatSwarmKey, newSwarmKeyHex, parseSwarmKey, type SwarmKeyHex } from './swarm-key.js'

export { ensureDir, writeFileDurable, readIfExists, isTooOpen } from '../../base/index.js'
export { ensureDataDirFormat, readDataDirFormat, DataDirTooNewError, DATA_DIR_FORMAT, FORMAT_FILE, type FormatCheck } from './format.js'
export { formatSwarmKey, parseSwarmKey, swarmKeyBytes, newSwarmKeyHex, isSwarmKeyHex, type SwarmKeyHex } from './swarm-key.js'

export const DATA_FILES = {
  identity: 'identity.key',
  swarmKey: 'swarm.key',
  apiToken: 'api-token',
  apiPort: 'api-port',
  bootstrap: 'bootstrap.json',
  db: 'db',
} as const

export const dataPath = (dataDir: string, file: keyof typeof DATA_FILES): string => join(dataDir, DATA_FILES[file])

export async function loadOrCreateIdentity (dataDir: string): Promise<{ key: PrivateKey, created: boolean }> {
  const path = dataPath(dataDir, 'identity')
  const bytes = await readIfExists(path)
  if (bytes !== undefined) {
    try {
      const key = privateKeyFromProtobuf(bytes)
      if (key.type !== 'Ed25519') throw new Error(`key type ${key.type}, expected Ed25519`)
      return { key, created: false }
    } catch (err) {
      throw new DataDirError(`${path} is corrupt or not an Ed25519 identity (${(err as Error).message}); restore it from a backup or move it away to create a new identity`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  await writeFileDurable(path, privateKeyToProtobuf(key))
  return { key, created: true }
}

export async function readSwarmKey (dataDir: string): Promise<SwarmKeyHex | undefined> {
  const path = dataPath(dataDir, 'swarmKey')
  const bytes = await readIfExists(path)
  return bytes === undefined ? undefined : parseSwarmKey(bytes.toString('utf8'), path)
}

export async function writeSwarmKey (dataDir: string, hex: SwarmKeyHex): Promise<void> {
  await writeFileDurable(dataPath(dataDir, 'swarmKey'), formatSwarmKey(hex))
}

/** The swarm key, creating a new mesh's key when the data dir has none. */
export async function loadOrCreateSwarmKey (dataDir: string): Promise<{ key: SwarmKeyHex, created: boolean }> {
  const existing = await readSwarmKey(dataDir)
  if (existing !== undefined) return { key: existing, created: false }
  const key = newSwarmKeyHex()
  await writeSwarmKey(dataDir, key)
  return { key, created: true }
}

export async function loadOrCreateApiToken (dataDir: string): Promise<string> {
  const path = dataPath(dataDir, 'apiToken')
  const bytes = await readIfExists(path)
  if (bytes !== undefined) {
    const token = bytes.toString('utf8').trim()
    if (!/^[A-Za-z0-9_-]{32,256}$/.test(token)) throw new DataDirError(`${path} does not hold a valid API token; delete it to create a new one`)
    return token
  }
  const token = randomBytes(32).toString('base64url')
  await writeFileDurable(path, token + '\n')
  return token
}

export async function readApiToken (dataDir: string): Promise<string | undefined> {
  const bytes = await readIfExists(dataPath(dataDir, 'apiToken'))
  return bytes?.toString('utf8').trim()
}

export async function readBootstrapFile (dataDir: string): Promise<string[]> {
  const path = dataPath(dataDir, 'bootstrap')
  const bytes = await readIfExists(path)
  if (bytes === undefined) return []
  try {
    const list = JSON.parse(bytes.toString('utf8')) as unknown
    if (!Array.isArray(list) || !list.every(a => typeof a === 'string')) throw new Error('expected an array of multiaddr strings')
    return list
  } catch (err) {
    throw new DataDirError(`${path} is corrupt (${(err as Error).message})`, { cause: err })
  }
}

export async function writeBootstrapFile (dataDir: string, addresses: string[]): Promise<void> {
  await writeFileDurable(dataPath(dataDir, 'bootstrap'), JSON.stringify(addresses, null, 2) + '\n', 0o644)
}

export async function writeApiPort (dataDir: string, port: number): Promise<void> {
  await writeFileDurable(dataPath(dataDir, 'apiPort'), `${port}\n`, 0o644)
}

export async function readApiPort (dataDir: string): Promise<number | undefined> {
  const bytes = await readIfExists(dataPath(dataDir, 'apiPort'))
  if (bytes === undefined) return undefined
  const port = Number.parseInt(bytes.toString('utf8').trim(), 10)
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined
}

export async function removeApiPort (dataDir: string): Promise<void> {
  await rm(dataPath(dataDir, 'apiPort'), { force: true })
}

/** Secret files of the data dir that group or others can read (they should be 0600). */
export async function secretsTooOpen (dataDir: string): Promise<string[]> {
  const paths = (['identity', 'swarmKey', 'apiToken'] as const).map(f => dataPath(dataDir, f))
  const open = await Promise.all(paths.map(async p => isTooOpen(p).catch(() => false)))
  return paths.filter((_, i) => open[i])
}
