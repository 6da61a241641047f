import { InvalidMessageError } from '../base/index.js'

/** Stateless between calls (never streaming), so one serves every frame; making one per call showed in profiles. */
const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** Decode bytes from the wire as UTF-8 JSON; anything else is an InvalidMessageError naming `what`. */
export function parseJsonBytes (bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(UTF8.decode(bytes))
  } catch {
    throw new InvalidMessageError(`${what} is not UTF-8 JSON`)
  }
}
