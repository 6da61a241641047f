/**
 * pnet's XSalsa20 stream cipher (the keystream of libp2p's pnet: key = the swarm key, nonce =
 * the sender's 24-byte nonce, one stream per direction, state kept across messages).
 * - Native: libsodium's `crypto_stream_xor_init/update/final` through `sodium-native`
 *   (~1.4 GiB/s here, ~10x the WASM cipher). Byte-for-byte the same keystream as pnet's own.
 * - Fallback, when the native module cannot load (a platform without a prebuilt binary):
 *   pnet's own `xsalsa20` 1.2 (WASM), logged once at warn. That package has a bug: all its
 *   instances share one WASM memory (at most 64 MiB) and each keeps a view of it. When one
 *   input outgrows the memory (640 KiB at first) it grows, every other instance's view goes
 *   stale, and each stale instance grows it again on its next input: with a connection's two
 *   ciphers taking turns the memory grows a page per message until the process dies
 *   (`WebAssembly.Memory.grow(): Maximum memory size exceeded`). Grown once here, before any
 *   connection has a cipher, it never needs to grow again for inputs under PRIMED_BYTES.
 *   The native path never loads the WASM module, so it costs nothing there.
 */
import { createRequire } from 'node:module'
import type { Logger } from '../../base/index.js'

/** Larger than any one write the transport batches: the model fetch keeps 8 MiB in flight per stream. */
export const PRIMED_BYTES = 24 * 1024 * 1024

export interface StreamXor {
  /** XORs `input` with the next `input.byteLength` bytes of keystream into `output` (may be `input`). */
  update: (input: Uint8Array, output: Uint8Array) => void
  /** Wipes the state; the cipher is unusable afterwards. */
  final: () => void
}

export type StreamXorFactory = (nonce: Uint8Array, key: Uint8Array) => StreamXor
export type StreamXorImplementation = 'native' | 'wasm'

interface Sodium {
  crypto_stream_xor_STATEBYTES: number
  crypto_stream_xor_init: (state: Uint8Array, nonce: Uint8Array, key: Uint8Array) => void
  crypto_stream_xor_update: (state: Uint8Array, output: Uint8Array, input: Uint8Array) => void
  crypto_stream_xor_final: (state: Uint8Array) => void
}

type WasmXSalsa20 = (nonce: Uint8Array, key: Uint8Array) => { update: (input: Uint8Array, output?: Uint8Array) => Uint8Array, finalize: () => void }

const require = createRequire(import.meta.url)

/** libsodium's XSalsa20. Throws when the native module cannot load. */
export function nativeStreamXor (): StreamXorFactory {
  const sodium = require('sodium-native') as Sodium
  const stateBytes = sodium.crypto_stream_xor_STATEBYTES
  return (nonce, key) => {
    const state = new Uint8Array(stateBytes)
    sodium.crypto_stream_xor_init(state, nonce, key)
    return {
      update: (input, output) => { sodium.crypto_stream_xor_update(state, output, input) },
      final: () => { sodium.crypto_stream_xor_final(state) },
    }
  }
}

let wasmPrimed = false

/** pnet's own WASM XSalsa20 (its copy, loaded the way pnet loads it), memory primed once. */
export function wasmStreamXor (): StreamXorFactory {
  const pnetRequire = createRequire(require.resolve('@libp2p/pnet'))
  const XSalsa20 = pnetRequire('xsalsa20') as WasmXSalsa20
  if (!wasmPrimed) {
    wasmPrimed = true
    const primer = XSalsa20(new Uint8Array(24), new Uint8Array(32)) as ReturnType<WasmXSalsa20> & { _xor?: { realloc?: (size: number) => void } }
    // Grown the way update() grows it, without enciphering 24 MiB (~0.3-1 s of CPU).
    if (typeof primer._xor?.realloc === 'function') primer._xor.realloc(PRIMED_BYTES + 64 * 1024)
    else primer.update(new Uint8Array(PRIMED_BYTES))
    primer.finalize()
  }
  return (nonce, key) => {
    const cipher = XSalsa20(nonce, key)
    return {
      update: (input, output) => { cipher.update(input, output) },
      final: () => { cipher.finalize() },
    }
  }
}

export interface ChosenStreamXor { implementation: StreamXorImplementation, factory: StreamXorFactory }

/** The native cipher when `loadNative` succeeds, else the WASM one, with one warning. */
export function chooseStreamXor (log: Logger | undefined, loadNative: () => StreamXorFactory = nativeStreamXor): ChosenStreamXor {
  try {
    return { implementation: 'native', factory: loadNative() }
  } catch (err) {
    log?.warn({ err }, 'sodium-native did not load: pnet falls back to the WASM XSalsa20 (about 10x slower; model transfers will be slow)')
    return { implementation: 'wasm', factory: wasmStreamXor() }
  }
}

let chosen: ChosenStreamXor | undefined

/** The process's choice, made (and warned about) once. */
export function pnetStreamXor (log?: Logger): ChosenStreamXor {
  chosen ??= chooseStreamXor(log)
  return chosen
}
