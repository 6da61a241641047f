/**
 * Tests that need a system package fail (never skip) when it is missing, each with one message
 * that says what is missing and how to get it; `npm test`'s pre-step prints the same advice
 * once (scripts/ensure-deps.sh --check-system) and never installs anything itself.
 */
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { beforeEach } from 'vitest'

function onPath (command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).filter(Boolean).some(dir => {
    try {
      accessSync(join(dir, command), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

export const BUBBLEWRAP_MISSING = 'bubblewrap (bwrap) is not installed, and the sandbox tests need it: install it with `npm run setup:system` (as root) or `sudo apt-get install -y bubblewrap`'

/** Call at the top of a test file whose tests run the real sandbox. */
export function requireBubblewrap (command = 'bwrap'): void {
  const present = onPath(command)
  beforeEach(() => {
    if (!present) throw new Error(BUBBLEWRAP_MISSING)
  })
}
