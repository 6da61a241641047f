/** Standalone TaskLedgers on real LevelDB in temp dirs, for tests without a mesh. */
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { TaskLedger } from '../../ledger/index.js'
import { silentLogger } from '../../base/index.js'
import { tempDir } from './nodes.js'

export interface TestLedger { ledger: TaskLedger, db: ClassicLevel<string, string>, key: PrivateKey, peerId: string, path: string }

const open: TestLedger[] = []

export async function openLedger (options: { path?: string, key?: PrivateKey, now?: () => number } = {}): Promise<TestLedger> {
  const path = options.path ?? join(await tempDir('gryphgen-ledger-'), 'db')
  const key = options.key ?? await generateKeyPair('Ed25519')
  const db = new ClassicLevel<string, string>(path, { valueEncoding: 'utf8' })
  await db.open()
  const peerId = peerIdFromPrivateKey(key).toString()
  const ledger = new TaskLedger({ db, privateKey: key, peerId, logger: silentLogger(), now: options.now })
  await ledger.open()
  const t = { ledger, db, key, peerId, path }
  open.push(t)
  return t
}

export async function closeLedger (t: TestLedger): Promise<void> {
  const i = open.indexOf(t)
  if (i >= 0) open.splice(i, 1)
  await t.ledger.close()
  await t.db.close()
}

export async function closeAllLedgers (): Promise<void> {
  await Promise.all([...open].map(closeLedger))
}
