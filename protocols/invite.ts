/**
 * Invite: the one string that lets a machine join a mesh. It carries the swarm key (a
 * secret: whoever holds an invite can join) and the inviting node's dialable addresses.
 * Format: `gryphgen-invite-v1:` + base64url(JSON { psk, addrs }).
 */
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidInviteError } from '../base/index.js'

export const INVITE_PREFIX = 'gryphgen-invite-v1:'

const InviteSchema = Type.Object({
  psk: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  addrs: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 32 }),
}, { additionalProperties: false })

export type Invite = Type.Static<typeof InviteSchema>
const checkInvite = Compile(InviteSchema)

export function encodeInvite (invite: Invite): string {
  return INVITE_PREFIX + Buffer.from(JSON.stringify(invite), 'utf8').toString('base64url')
}

export function decodeInvite (text: string): Invite {
  const trimmed = text.trim()
  if (!trimmed.startsWith(INVITE_PREFIX)) {
    throw new InvalidInviteError(`not a gryphgen invite (it must start with ${INVITE_PREFIX})`)
  }
  const body = trimmed.slice(INVITE_PREFIX.length)
  if (!/^[A-Za-z0-9_-]+$/.test(body) || body.length > 16_384) throw new InvalidInviteError('invite is damaged (bad characters or too long); copy it again whole')
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidInviteError('invite is damaged (cannot decode it); copy it again whole')
  }
  if (!checkInvite.Check(parsed)) {
    const first = checkInvite.Errors(parsed)[0]
    throw new InvalidInviteError(`invite is damaged (${first?.instancePath ?? ''} ${first?.message ?? 'invalid'})`)
  }
  for (const addr of parsed.addrs) {
    let ok = false
    try { ok = multiaddr(addr).getComponents().some(c => c.name === 'p2p') } catch { ok = false }
    if (!ok) throw new InvalidInviteError(`invite holds an address that is not a dialable peer multiaddr: ${addr}`)
  }
  return parsed
}
