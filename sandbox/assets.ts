/**
 * Files the sandbox ships besides code: the compiled seccomp filters (sandbox/seccomp/*.bpf)
 * and the synthetic /etc files (sandbox/etc/). They sit next to this module when it runs from
 * the source tree (tsx); a compiled copy in dist/sandbox/ finds them in the source tree's
 * sandbox/ folder unless the build copies them alongside.
 */
import { access } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const LOCATIONS = ['./', '../../sandbox/']

/** The path of a shipped file, or null when it is in neither place. */
export async function assetPath (relative: string): Promise<string | null> {
  for (const base of LOCATIONS) {
    const path = fileURLToPath(new URL(`${base}${relative}`, import.meta.url))
    try {
      await access(path)
      return path
    } catch { /* try the next place */ }
  }
  return null
}
