import { existsSync, readFileSync } from 'node:fs'

/** gryphgen's version, from the package.json above this file (source tree or dist/). */
function readVersion (): string {
  for (const rel of ['../package.json', '../../package.json']) {
    const url = new URL(rel, import.meta.url)
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'gryphgen' && typeof pkg.version === 'string') return pkg.version
    }
  }
  return '0.0.0'
}

export const VERSION: string = readVersion()
