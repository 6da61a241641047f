/** Signed, chained ledger entries built in memory (no database), for pure tests of compaction. */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createEntrySigner, type Stored } from '../../ledger/index.js'
import { LEDGER_VERSION, type Bodies, type EntryType } from '../../protocols/index.js'

export interface Author {
  peerId: string
  append: <T extends EntryType>(type: T, task: string, body: Bodies[T], wall: number) => Stored
}

export async function author (): Promise<Author> {
  const key = await generateKeyPair('Ed25519')
  const sign = createEntrySigner(key)
  const peerId = peerIdFromPrivateKey(key).toString()
  let head: Stored | undefined
  return {
    peerId,
    append: (type, task, body, wall) => {
      head = sign({ v: LEDGER_VERSION, author: peerId, seq: (head?.entry.seq ?? 0) + 1, prev: head?.id ?? null, hlc: { wall, logical: 0 }, type, task, body: body as Record<string, unknown> })
      return head
    },
  }
}
