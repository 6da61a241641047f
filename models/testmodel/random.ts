/**
 * Seeded randomness for generated weights: xoshiro128** (fast, 32-bit, good enough for weights
 * nobody reads), seeded through splitmix32 so nearby seeds give unrelated streams. The same
 * seed gives the same numbers on every platform: everything is 32-bit integer arithmetic.
 */

function splitmix32 (state: number): () => number {
  let s = state >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** A generator of uint32s for `seed` (any safe integer) and `stream` (for example a tensor's index). */
export function randomStream (seed: number, stream: number): () => number {
  const mix = splitmix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x27d4eb2d) ^ Math.imul(stream + 1, 0x165667b1))
  let a = mix(); let b = mix(); let c = mix(); let d = mix()
  if ((a | b | c | d) === 0) a = 1
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
    const t = b << 9
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t
    d = rotl(d, 11)
    return result
  }
}

function rotl (x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

const f32 = new Float32Array(1)
const f32Bits = new Uint32Array(f32.buffer)

/** The IEEE half-precision bits of `value`, rounded to nearest even (Node 20 has no Float16Array). */
export function float16Bits (value: number): number {
  f32[0] = value
  const x = f32Bits[0]
  const sign = (x >>> 16) & 0x8000
  const rawExponent = (x >>> 23) & 0xff
  let mantissa = x & 0x7fffff
  if (rawExponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0)
  const exponent = rawExponent - 127 + 15
  if (exponent >= 0x1f) return sign | 0x7c00
  let shift = 13
  let half = exponent << 10
  if (exponent <= 0) {
    if (exponent < -10) return sign
    mantissa |= 0x800000
    shift = 14 - exponent
    half = 0
  }
  let bits = half | (mantissa >>> shift)
  const rest = mantissa & ((1 << shift) - 1)
  const midpoint = 1 << (shift - 1)
  if (rest > midpoint || (rest === midpoint && (bits & 1) === 1)) bits++
  return sign | bits
}
