/**
 * Works around a bug of `xsalsa20` 1.2 (pnet's cipher): all its instances share one WASM
 * memory (at most 64 MiB) and each keeps a view of it. When one input outgrows the memory
 * (640 KiB at first) it grows, every other instance's view goes stale (length 0), and each
 * stale instance then grows the memory again on its next input: with a connection's two
 * ciphers taking turns, the memory grows a page per message until it hits the limit and the
 * process dies (`WebAssembly.Memory.grow(): Maximum memory size exceeded`, thrown from a
 * socket callback). A transfer that sends more than 640 KiB at once (a model fetch, a big blob)
 * set it off. Grown once here, before any connection has a cipher, the memory never needs to
 * grow again for inputs under PRIMED_BYTES, so no view goes stale. Costs PRIMED_BYTES of memory.
 */
import { createRequire } from 'node:module'

/** Larger than any one write the transport batches: the model fetch keeps 8 MiB in flight per stream. */
export const PRIMED_BYTES = 24 * 1024 * 1024

let primed = false

export function primePnetCipher (): void {
  if (primed) return
  primed = true
  // pnet's own copy (the one its connections use), loaded the way pnet loads it.
  const require = createRequire(createRequire(import.meta.url).resolve('@libp2p/pnet'))
  const XSalsa20 = require('xsalsa20') as (nonce: Uint8Array, key: Uint8Array) => { update: (input: Uint8Array) => Uint8Array, finalize: () => void, _xor?: { realloc?: (size: number) => void } }
  const cipher = XSalsa20(new Uint8Array(24), new Uint8Array(32))
  // Grown the way update() grows it, without enciphering 24 MiB (~0.3-1 s of CPU on every start).
  if (typeof cipher._xor?.realloc === 'function') cipher._xor.realloc(PRIMED_BYTES + 64 * 1024)
  else cipher.update(new Uint8Array(PRIMED_BYTES))
  cipher.finalize()
}
