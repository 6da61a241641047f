import { describe, expect, test } from 'vitest'
import { decodeInvite, encodeInvite, INVITE_PREFIX } from '../../protocols/invite.js'
import { orderForInvite } from '../../node/cli/commands/invite.js'

const PEER = '12D3KooWL1LGqoqgH2GSq6Hsj2KxN9ZnQwwnU5KE1ZUTwod7rv1y'
const invite = { psk: 'ab'.repeat(32), addrs: [`/ip4/127.0.0.1/tcp/7410/p2p/${PEER}`] }

describe('invite', () => {
  test('round-trips', () => {
    const text = encodeInvite(invite)
    expect(text.startsWith(INVITE_PREFIX)).toBe(true)
    expect(decodeInvite(`  ${text}\n`)).toEqual(invite)
  })

  const body = (v: unknown): string => INVITE_PREFIX + Buffer.from(JSON.stringify(v)).toString('base64url')
  test.each([
    ['empty', ''],
    ['wrong prefix', 'hello'],
    ['truncated', encodeInvite(invite).slice(0, 40)],
    ['not base64url', INVITE_PREFIX + '!!!'],
    ['not JSON', INVITE_PREFIX + Buffer.from('nope').toString('base64url')],
    ['short key', body({ ...invite, psk: 'ab' })],
    ['no addresses', body({ ...invite, addrs: [] })],
    ['address without peer id', body({ ...invite, addrs: ['/ip4/127.0.0.1/tcp/1'] })],
    ['not a multiaddr', body({ ...invite, addrs: ['http://x'] })],
    ['extra field', body({ ...invite, extra: 1 })],
  ])('%s is a clear InvalidInviteError', (_name, text) => {
    expect(() => decodeInvite(text)).toThrow(expect.objectContaining({ name: 'InvalidInviteError' }))
  })

  test('dialable addresses come before loopback ones', () => {
    const loop = `/ip4/127.0.0.1/tcp/1/p2p/${PEER}`
    const lan = `/ip4/192.168.1.5/tcp/1/p2p/${PEER}`
    expect(orderForInvite([loop, lan])).toEqual([lan, loop])
  })
})
