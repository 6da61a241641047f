/**
 * pnet's cipher (node/mesh/pnet-cipher.ts, pnet-protector.ts): the native XSalsa20 gives the
 * same keystream as pnet's own WASM one however the bytes are chunked, and a connection
 * protected by our protector talks to one protected by upstream `@libp2p/pnet`.
 */
import { describe, expect, test } from 'vitest'
import { randomBytes } from 'node:crypto'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { preSharedKey } from '@libp2p/pnet'
import type { MessageStream } from '@libp2p/interface'
import { chooseStreamXor, nativeStreamXor, pnetStreamXor, wasmStreamXor, type StreamXorFactory } from '../../node/mesh/pnet-cipher.js'
import { pnetProtector } from '../../node/mesh/pnet-protector.js'
import { newSwarmKeyHex, swarmKeyBytes } from '../../node/datadir/index.js'
import type { Logger } from '../../base/index.js'

/** A seeded linear congruential generator, so a failing chunking can be replayed. */
function seeded (seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  }
}

/** Encrypts `plain` in chunks of the given sizes (in place when asked). */
function encrypt (factory: StreamXorFactory, nonce: Uint8Array, key: Uint8Array, plain: Uint8Array, sizes: number[], inPlace: boolean): Uint8Array {
  const cipher = factory(nonce, key)
  const out = new Uint8Array(plain.byteLength)
  let at = 0
  for (const size of sizes) {
    const input = new Uint8Array(plain.subarray(at, at + size)) // a copy: Buffer#slice would be a view
    if (inPlace) {
      cipher.update(input, input)
      out.set(input, at)
    } else {
      cipher.update(input, out.subarray(at, at + size))
    }
    at += size
  }
  cipher.final()
  return out
}

function chunking (total: number, random: () => number, max: number): number[] {
  const sizes: number[] = []
  let left = total
  while (left > 0) {
    const size = Math.min(left, Math.floor(random() * max))
    sizes.push(size)
    left -= size
  }
  return sizes
}

describe('pnet cipher', () => {
  test('the native module loads here and is the one chosen', () => {
    expect(pnetStreamXor().implementation).toBe('native')
  })

  test('when the native module cannot load, the WASM cipher is used (same keystream) and one warning logged', () => {
    const warnings: unknown[] = []
    const log = { warn: (...args: unknown[]) => { warnings.push(args) } } as unknown as Logger
    const chosen = chooseStreamXor(log, () => { throw new Error('no prebuilt binary for this platform') })
    expect(chosen.implementation).toBe('wasm')
    expect(warnings).toHaveLength(1)
    const key = randomBytes(32)
    const nonce = randomBytes(24)
    const plain = randomBytes(5000)
    const sizes = [1000, 4000]
    expect(Buffer.from(encrypt(chosen.factory, nonce, key, plain, sizes, false)).equals(Buffer.from(encrypt(nativeStreamXor(), nonce, key, plain, sizes, false)))).toBe(true)
  })

  test.each([1, 2, 3, 4, 5, 6])('native and WASM XSalsa20 give the same bytes over random chunkings (seed %i)', (seed) => {
    const random = seeded(seed)
    const key = randomBytes(32)
    const nonce = randomBytes(24)
    const plain = randomBytes(seed <= 3 ? 200_000 : 1_500_000)
    // Small chunks cross the 64-byte block boundaries; large ones exceed the WASM's first memory.
    const max = seed <= 3 ? 300 : 900_000
    const reference = encrypt(wasmStreamXor(), nonce, key, plain, [plain.byteLength], false)
    const native = encrypt(nativeStreamXor(), nonce, key, plain, chunking(plain.byteLength, random, max), seed % 2 === 0)
    const wasm = encrypt(wasmStreamXor(), nonce, key, plain, chunking(plain.byteLength, random, max), false)
    expect(Buffer.from(native).equals(Buffer.from(reference))).toBe(true)
    expect(Buffer.from(wasm).equals(Buffer.from(reference))).toBe(true)
    expect(Buffer.from(native).equals(plain)).toBe(false)
  })

  test('a connection protected natively talks both ways with one protected by upstream pnet', async () => {
    const swarmKey = newSwarmKeyHex()
    const [outbound, inbound] = multiaddrConnectionPair()
    const signal = AbortSignal.timeout(10_000)
    const [ours, theirs] = await Promise.all([
      pnetProtector({ swarmKey, streamXor: nativeStreamXor() })().protect(outbound, { signal }),
      preSharedKey({ psk: swarmKeyBytes(swarmKey) })().protect(inbound, { signal }),
    ])
    const received = (stream: MessageStream, bytes: number): Promise<Buffer> => new Promise(resolve => {
      const parts: Buffer[] = []
      let got = 0
      stream.addEventListener('message', (evt) => {
        const chunk = Buffer.from(evt.data.subarray())
        parts.push(chunk)
        got += chunk.byteLength
        if (got >= bytes) resolve(Buffer.concat(parts))
      })
    })
    const there = randomBytes(300_000)
    const back = randomBytes(200_000)
    const atTheirs = received(theirs, there.byteLength)
    const atOurs = received(ours, back.byteLength)
    for (let at = 0; at < there.byteLength; at += 70_001) ours.send(there.subarray(at, at + 70_001))
    for (let at = 0; at < back.byteLength; at += 65_536) theirs.send(back.subarray(at, at + 65_536))
    expect((await atTheirs).equals(there)).toBe(true)
    expect((await atOurs).equals(back)).toBe(true)
    await Promise.all([ours.close(), theirs.close()])
  })
})
