/**
 * Signing and verification of entries with Node's Ed25519 and key objects built once per key
 * (libp2p's key classes rebuild one on every call, which doubles the cost of signing).
 * A chain of one author's consecutive entries is verified by checking every hash link and
 * one signature, the last one: it covers its `prev`, which is the hash of the entry before,
 * and so on down the chain.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { signingBytes, type Entry, type UnsignedEntry } from '../protocols/index.js'
import { InvalidMessageError } from '../base/index.js'

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')

export type EntrySigner = (unsigned: UnsignedEntry) => { id: string, entry: Entry }

export function createEntrySigner (key: PrivateKey): EntrySigner {
  const keyObject = privateKeyObject(key)
  return unsigned => {
    const bytes = signingBytes(unsigned)
    return { id: sha256(bytes), entry: { ...unsigned, sig: b64url(sign(null, bytes, keyObject)) } }
  }
}

/** A signer of arbitrary bytes (snapshot pages) with the node's key: base64url signatures. */
export function createBytesSigner (key: PrivateKey): (bytes: Uint8Array) => string {
  const keyObject = privateKeyObject(key)
  return bytes => b64url(sign(null, bytes, keyObject))
}

function privateKeyObject (key: PrivateKey): KeyObject {
  if (key.type !== 'Ed25519') throw new InvalidMessageError(`ledger keys must be Ed25519, not ${key.type}`)
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(key.raw.subarray(0, 32)), x: b64url(key.publicKey.raw) }, format: 'jwk' })
}

/** Whether `sig` (base64url) is `signer`'s signature over `bytes`; false for a signer that is not an Ed25519 peer id. */
export function verifyBytes (signer: string, bytes: Uint8Array, sig: string): boolean {
  try {
    return verify(null, bytes, publicKeyOf(signer), Buffer.from(sig, 'base64url'))
  } catch {
    return false
  }
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

const publicKeys = new Map<string, KeyObject>()

function publicKeyOf (author: string): KeyObject {
  let key = publicKeys.get(author)
  if (key === undefined) {
    let raw: Uint8Array | undefined
    try { raw = peerIdFromString(author).publicKey?.raw } catch { raw = undefined }
    if (raw === undefined || raw.length !== 32) throw new InvalidMessageError(`author ${author} is not an Ed25519 peer id`)
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(raw) }, format: 'jwk' })
    if (publicKeys.size > 10_000) publicKeys.clear()
    publicKeys.set(author, key)
  }
  return key
}

function unsignedOf (entry: Entry): UnsignedEntry {
  const { sig: _sig, ...unsigned } = entry
  return unsigned
}

export function verifySignature (entry: Entry): boolean {
  return verify(null, signingBytes(unsignedOf(entry)), publicKeyOf(entry.author), Buffer.from(entry.sig, 'base64url'))
}

/** The id of a (signed) entry: SHA-256 of its signing bytes. */
export function idOf (entry: Entry): string {
  return sha256(signingBytes(unsignedOf(entry)))
}

/**
 * Verify a run of one author's entries, consecutive by seq: every `prev` must be the id of
 * the entry before it (the first one's is checked by the caller against its head), and the
 * last one's signature must hold. Returns the ids. Throws InvalidMessageError on any break.
 */
export function verifyRun (run: readonly Entry[]): string[] {
  if (run.length === 0) return []
  const ids: string[] = []
  for (let i = 0; i < run.length; i++) {
    const e = run[i]
    if (e.author !== run[0].author) throw new InvalidMessageError('a run mixes authors')
    if (i > 0) {
      if (e.seq !== run[i - 1].seq + 1) throw new InvalidMessageError(`run skips from seq ${run[i - 1].seq} to ${e.seq}`)
      if (e.prev !== ids[i - 1]) throw new InvalidMessageError(`broken chain at seq ${e.seq} of ${e.author}`)
    }
    ids.push(idOf(e))
  }
  if (!verifySignature(run[run.length - 1])) throw new InvalidMessageError(`bad signature on seq ${run[run.length - 1].seq} of ${run[0].author}`)
  return ids
}
