/**
 * The pnet pre-shared key that makes a mesh private. Stored as the 95-byte v1 text format
 * (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits). Pure parsing/formatting here.
 */
import { randomBytes } from 'node:crypto'
import { DataDirError } from '../../base/index.js'

const HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n'
const KEY_RE = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n([0-9a-fA-F]{64})\s*$/

/** The key as 64 lowercase hex digits. */
export type SwarmKeyHex = string

export function newSwarmKeyHex (): SwarmKeyHex {
  return randomBytes(32).toString('hex')
}

export function formatSwarmKey (hex: SwarmKeyHex): string {
  return HEADER + hex.toLowerCase()
}

export function parseSwarmKey (text: string, source: string): SwarmKeyHex {
  const match = KEY_RE.exec(text)
  if (match === null) {
    throw new DataDirError(`${source} is not a valid swarm key (expected /key/swarm/psk/1.0.0/, /base16/ and 64 hex digits)`)
  }
  return match[1].toLowerCase()
}

export function isSwarmKeyHex (value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value)
}

/** The bytes libp2p's pnet protector expects. */
export function swarmKeyBytes (hex: SwarmKeyHex): Uint8Array {
  return new TextEncoder().encode(formatSwarmKey(hex))
}
