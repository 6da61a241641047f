/**
 * Noise's transport cipher through libsodium (node/mesh/noise-cipher.ts): byte for byte what
 * noise's default crypto sends, each side reads the other's, whole or in pieces, in place; a
 * changed byte is refused; and without the native module noise's default is used.
 */
import { describe, expect, test } from 'vitest'
import { randomBytes } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { noiseCrypto, sodiumNoiseCrypto } from '../../node/mesh/noise-cipher.js'

const sodium = sodiumNoiseCrypto()
const bytes = (x: Uint8Array | Uint8ArrayList): Buffer => Buffer.from(x instanceof Uint8Array ? x : x.subarray())
/** `data` cut into three pieces, as a list (what yamux and the socket hand noise). */
const inPieces = (data: Uint8Array): Uint8ArrayList => new Uint8ArrayList(data.subarray(0, 7), data.subarray(7, 1000), data.subarray(1000))

describe('noise cipher (libsodium ChaCha20-Poly1305)', () => {
  const key = randomBytes(32)
  const nonce = randomBytes(12)
  const ad = randomBytes(5)

  test.each([1300, 65_519])('%i bytes: the same ciphertext as noise\'s default, whole or in pieces, and each reads the other\'s', (size) => {
    const plain = randomBytes(size)
    const expected = bytes(defaultCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, key))
    expect(bytes(sodium.chaCha20Poly1305Encrypt(plain, nonce, ad, key))).toEqual(expected)
    expect(bytes(sodium.chaCha20Poly1305Encrypt(inPieces(plain), nonce, ad, key))).toEqual(expected)
    expect(bytes(sodium.chaCha20Poly1305Decrypt(expected, nonce, ad, key))).toEqual(plain)
    expect(bytes(sodium.chaCha20Poly1305Decrypt(inPieces(Buffer.from(expected)), nonce, ad, key))).toEqual(plain)
    const ours = sodium.chaCha20Poly1305Encrypt(plain, nonce, ad, key)
    expect(bytes(defaultCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, key))).toEqual(plain)
  })

  test('deciphers in place into the buffer noise offers (a view of the message body)', () => {
    const plain = randomBytes(4000)
    const message = bytes(defaultCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, key))
    const dst = message.subarray(0, message.byteLength - 16)
    const out = sodium.chaCha20Poly1305Decrypt(message, nonce, ad, key, dst)
    expect(out).toBe(dst)
    expect(bytes(dst)).toEqual(plain)
  })

  test('a changed byte, a wrong nonce or wrong associated data is refused', () => {
    const message = bytes(sodium.chaCha20Poly1305Encrypt(randomBytes(2000), nonce, ad, key))
    const flipped = Buffer.from(message)
    flipped[100] ^= 1
    expect(() => sodium.chaCha20Poly1305Decrypt(flipped, nonce, ad, key)).toThrow()
    expect(() => sodium.chaCha20Poly1305Decrypt(Buffer.from(message), randomBytes(12), ad, key)).toThrow()
    expect(() => sodium.chaCha20Poly1305Decrypt(Buffer.from(message), nonce, randomBytes(5), key)).toThrow()
    expect(() => sodium.chaCha20Poly1305Decrypt(randomBytes(10), nonce, ad, key)).toThrow()
  })

  test('the native cipher is chosen here; without the native module, noise\'s default crypto', () => {
    expect(noiseCrypto().chaCha20Poly1305Encrypt).not.toBe(defaultCrypto.chaCha20Poly1305Encrypt)
    expect(noiseCrypto(() => { throw new Error('no native module') })).toBe(defaultCrypto)
  })
})
