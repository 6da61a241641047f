/** The inbound admission rules of a node's libp2p port (node/mesh/admission.ts): pure parts, table-driven. */
import { describe, expect, test } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import type { MultiaddrConnection } from '@libp2p/interface'
import { allowList, pendingPerIpGater } from '../../node/mesh/admission.js'

const PEER = '12D3KooWAuctioneerAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'

/** A connection as the gater sees it: a remote address and a 'close' event. */
function conn (address: string): MultiaddrConnection & { close: () => void } {
  const target = new EventTarget() as EventTarget & { remoteAddr: unknown, close: () => void }
  target.remoteAddr = multiaddr(address)
  target.close = () => { target.dispatchEvent(new Event('close')) }
  return target as unknown as MultiaddrConnection & { close: () => void }
}

describe('allow list of known peers', () => {
  test.each([
    [['/ip4/10.0.0.5/tcp/4001/p2p/' + PEER], ['/ip4/10.0.0.5']],
    [['/ip6/::1/tcp/4001', '/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'], ['/ip6/::1', '/ip4/127.0.0.1']],
    [['/dns4/example.org/tcp/4001', 'not a multiaddr', ''], []],
  ])('%j -> %j', (input, expected) => {
    expect(allowList(input)).toEqual(expected)
  })
})

describe('pending connections per IP', () => {
  test('at most maxPerIp per remote IP wait; a closed or encrypted one frees its slot once', () => {
    const gater = pendingPerIpGater({ maxPerIp: 3, allowed: [] })
    const deny = (c: MultiaddrConnection): boolean => gater.denyInboundConnection?.(c) as boolean
    const held = [1, 2, 3].map(p => conn(`/ip4/127.0.0.2/tcp/${p}`))
    expect(held.map(deny)).toEqual([false, false, false])
    expect(deny(conn('/ip4/127.0.0.2/tcp/9'))).toBe(true)
    // Another IP has its own slots.
    expect(deny(conn('/ip4/127.0.0.3/tcp/1'))).toBe(false)
    held[0].close()
    expect(gater.pending('127.0.0.2')).toBe(2)
    expect(deny(conn('/ip4/127.0.0.2/tcp/10'))).toBe(false)
    // Past encryption (it holds the swarm key): no longer pending; its later close counts nothing.
    gater.denyInboundEncryptedConnection?.(undefined as never, held[1])
    held[1].close()
    expect(gater.pending('127.0.0.2')).toBe(2)
  })

  test('known peers\' IPs and addresses without an IP are not limited', () => {
    const gater = pendingPerIpGater({ maxPerIp: 1, allowed: ['/ip4/10.0.0.5/tcp/4001/p2p/' + PEER] })
    const deny = (c: MultiaddrConnection): boolean => gater.denyInboundConnection?.(c) as boolean
    expect([1, 2, 3].map(p => deny(conn(`/ip4/10.0.0.5/tcp/${p}`)))).toEqual([false, false, false])
    expect(gater.pending('10.0.0.5')).toBe(0)
    expect([1, 2].map(() => deny(conn('/unix/tmp%2Fsock')))).toEqual([false, false])
  })
})
