import { InvalidMessageError } from '../base/index.js'

/** Decode bytes from the wire as UTF-8 JSON; anything else is an InvalidMessageError naming `what`. */
export function parseJsonBytes (bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new InvalidMessageError(`${what} is not UTF-8 JSON`)
  }
}
