/**
 * Noise's transport cipher (ChaCha20-Poly1305, IETF: 12-byte nonce, 16-byte tag) through
 * libsodium (`sodium-native`, the module pnet's cipher loads): the same AEAD as noise's
 * default, so peers on either interoperate byte for byte. What it saves, per message of up to
 * 64 KiB (a model fetch sends ~16,000 per GiB each way): noise's default in Node makes a
 * node:crypto cipher object, two output buffers and a joined copy; this one enciphers in place
 * into one buffer (plaintext, then tag) and deciphers in place into the buffer noise offers
 * (`dst`). The handshake's X25519, SHA-256 and HKDF stay noise's own. When the native module
 * cannot load (pnet's cipher warns about that once), noise's default crypto is used whole.
 */
import { createRequire } from 'node:module'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import type { Uint8ArrayList } from 'uint8arraylist'

const TAG_BYTES = 16

interface SodiumAead {
  crypto_aead_chacha20poly1305_ietf_encrypt_detached: (c: Uint8Array, mac: Uint8Array, m: Uint8Array, ad: Uint8Array, nsec: null, npub: Uint8Array, k: Uint8Array) => number
  /** Throws when the tag does not verify. */
  crypto_aead_chacha20poly1305_ietf_decrypt_detached: (m: Uint8Array, nsec: null, c: Uint8Array, mac: Uint8Array, ad: Uint8Array, npub: Uint8Array, k: Uint8Array) => void
}

const require = createRequire(import.meta.url)

/** Copies `from` (one array or a list of them) into the start of `to`, unless it is that very memory already. */
function place (from: Uint8Array | Uint8ArrayList, to: Uint8Array): void {
  if (from instanceof Uint8Array) {
    if (from.buffer !== to.buffer || from.byteOffset !== to.byteOffset) to.set(from)
    return
  }
  let at = 0
  for (const piece of from) {
    to.set(piece, at)
    at += piece.byteLength
  }
}

/** Noise's crypto with libsodium's ChaCha20-Poly1305. Throws when the native module cannot load. */
export function sodiumNoiseCrypto (): ICryptoInterface {
  const sodium = require('sodium-native') as SodiumAead
  return {
    ...defaultCrypto,
    chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
      const length = plaintext.byteLength
      const sealed = Buffer.allocUnsafe(length + TAG_BYTES)
      const body = sealed.subarray(0, length)
      place(plaintext, body)
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(body, sealed.subarray(length), body, ad, null, nonce, k)
      return sealed
    },
    chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
      const length = ciphertext.byteLength - TAG_BYTES
      if (length < 0) throw new Error('noise message shorter than its tag')
      // noise's `dst` holds the ciphertext's body already (a view of it, or a joined copy); anything else is filled here.
      const body = dst !== undefined && dst.byteLength === length ? dst : Buffer.allocUnsafe(length)
      place(ciphertext instanceof Uint8Array ? ciphertext.subarray(0, length) : ciphertext.sublist(0, length), body)
      const tag = ciphertext instanceof Uint8Array ? ciphertext.subarray(length) : ciphertext.subarray(length)
      sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(body, null, body, tag, ad, nonce, k)
      return body
    },
  }
}

/** libsodium's when it loads, else noise's default. */
export function noiseCrypto (loadNative: () => ICryptoInterface = sodiumNoiseCrypto): ICryptoInterface {
  try {
    return loadNative()
  } catch {
    return defaultCrypto
  }
}
