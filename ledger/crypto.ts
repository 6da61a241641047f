/**
 * Signing and verification of entries. A chain of one author's consecutive entries is
 * verified by checking every hash link and one signature, the last one: it covers its
 * `prev`, which is the hash of the entry before, and so on down the chain.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { entryId, signingBytes, type Entry, type UnsignedEntry } from '../protocols/ledger.js'
import { InvalidMessageError } from '../node/errors.js'

export async function signEntry (unsigned: UnsignedEntry, key: PrivateKey): Promise<{ id: string, entry: Entry }> {
  const sig = Buffer.from(await key.sign(signingBytes(unsigned))).toString('base64url')
  return { id: entryId(unsigned), entry: { ...unsigned, sig } }
}

const keys = new Map<string, PublicKey>()

function publicKeyOf (author: string): PublicKey {
  let key = keys.get(author)
  if (key === undefined) {
    let parsed
    try { parsed = peerIdFromString(author) } catch { throw new InvalidMessageError(`author ${author} is not a peer id`) }
    if (parsed.publicKey === undefined) throw new InvalidMessageError(`author ${author} has no inline public key`)
    key = parsed.publicKey
    if (keys.size > 10_000) keys.clear()
    keys.set(author, key)
  }
  return key
}

export async function verifySignature (entry: Entry): Promise<boolean> {
  const { sig, ...unsigned } = entry
  try {
    return await publicKeyOf(entry.author).verify(signingBytes(unsigned), Buffer.from(sig, 'base64url'))
  } catch (err) {
    if ((err as Error).name === 'InvalidMessageError') throw err
    return false
  }
}

/**
 * Verify a run of one author's entries, consecutive by seq: every `prev` must be the id of
 * the entry before it (the first one's is not checked here), and the last one's signature
 * must hold. Returns the ids. Throws InvalidMessageError on any break.
 */
export async function verifyRun (run: readonly Entry[]): Promise<string[]> {
  if (run.length === 0) return []
  const ids: string[] = []
  for (let i = 0; i < run.length; i++) {
    const e = run[i]
    if (e.author !== run[0].author) throw new InvalidMessageError('a run mixes authors')
    if (i > 0) {
      if (e.seq !== run[i - 1].seq + 1) throw new InvalidMessageError(`run skips from seq ${run[i - 1].seq} to ${e.seq}`)
      if (e.prev !== ids[i - 1]) throw new InvalidMessageError(`broken chain at seq ${e.seq} of ${e.author}`)
    }
    const { sig: _sig, ...unsigned } = e
    ids.push(entryId(unsigned))
  }
  if (!await verifySignature(run[run.length - 1])) throw new InvalidMessageError(`bad signature on seq ${run[run.length - 1].seq} of ${run[0].author}`)
  return ids
}
