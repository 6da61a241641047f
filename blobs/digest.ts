/**
 * Blob digests: lowercase hex SHA-256 of the bytes, and the CID that names a blob in the
 * kad-dht (CID v1, `raw` codec, sha2-256 multihash of the same digest). Pure.
 */
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { DIGEST_PATTERN } from '../protocols/index.js'
import { InvalidDigestError } from './errors.js'

const RAW_CODEC = 0x55
const SHA2_256 = 0x12

export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Throws InvalidDigestError unless `digest` is 64 lowercase hex characters. */
export function assertDigest (digest: unknown): asserts digest is string {
  if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) {
    throw new InvalidDigestError('a blob digest is 64 lowercase hex characters (SHA-256)', { details: { digest: String(digest).slice(0, 80) } })
  }
}

export function blobCid (digest: string): CID {
  assertDigest(digest)
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256, Buffer.from(digest, 'hex')))
}
