/**
 * The download's running hash in its own thread (models/fetch/prefix-hasher.ts): each chunk is
 * kept only when the prefix digest with it is the expected one, a refused chunk leaves the
 * running hash as it was, shared and plain buffers both work, and a closed hasher refuses.
 */
import { describe, expect, test } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { PrefixHasher, sharedChunkBuffer } from '../../models/fetch/prefix-hasher.js'

const sha256 = (...parts: Uint8Array[]): string => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex')

describe('prefix hasher', () => {
  test('keeps chunks whose prefix digest matches; a refused one leaves the running hash as it was', async () => {
    const [a, b] = [randomBytes(5000), randomBytes(3000)]
    const shared = sharedChunkBuffer(b.byteLength)
    b.copy(shared)
    const hasher = new PrefixHasher()
    try {
      expect(await hasher.extend(a, sha256(a))).toBe(true)
      expect(await hasher.extend(b, sha256(b))).toBe(false) // the digest of b alone, not of a + b
      const corrupt = Buffer.from(b)
      corrupt[10] ^= 1
      expect(await hasher.extend(corrupt, sha256(a, b))).toBe(false)
      expect(await hasher.extend(shared, sha256(a, b))).toBe(true)
      expect(await hasher.extend(a, sha256(a, b, a))).toBe(true)
    } finally {
      await hasher.close()
    }
    await expect(hasher.extend(a, sha256(a))).rejects.toThrow()
  })
})
