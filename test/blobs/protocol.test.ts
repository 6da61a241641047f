import { describe, expect, test } from 'vitest'
import { decodeBlobHeader, decodeBlobRequest, encodeBlobHeader, encodeBlobRequest } from '../../protocols/blob.js'

const digest = 'ab'.repeat(32)
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('blob protocol messages', () => {
  test('round trips', () => {
    expect(decodeBlobRequest(encodeBlobRequest({ digest }))).toEqual({ digest })
    expect(decodeBlobHeader(encodeBlobHeader({ size: 12 }))).toEqual({ size: 12 })
    expect(decodeBlobHeader(encodeBlobHeader({ error: 'not-found' }))).toEqual({ error: 'not-found' })
  })

  test.each([
    ['not JSON', '{digest'],
    ['digest upper case', JSON.stringify({ digest: digest.toUpperCase() })],
    ['digest short', JSON.stringify({ digest: digest.slice(2) })],
    ['extra property', JSON.stringify({ digest, more: 1 })],
    ['too large', JSON.stringify({ digest, pad: 'x'.repeat(300) })],
  ])('request rejected: %s', (_, text) => {
    expect(() => decodeBlobRequest(bytes(text))).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })

  test.each([
    ['negative size', '{"size":-1}'],
    ['fractional size', '{"size":1.5}'],
    ['size as text', '{"size":"10"}'],
    ['unknown error', '{"error":"whatever"}'],
    ['both', '{"size":1,"error":"not-found"}'],
    ['empty', '{}'],
    ['not UTF-8', '\u00ff'],
  ])('header rejected: %s', (_, text) => {
    const input = text === '\u00ff' ? Uint8Array.of(0xff) : bytes(text)
    expect(() => decodeBlobHeader(input)).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })
})
