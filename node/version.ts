import { existsSync, readFileSync } from 'node:fs'
import { ADVERT_VERSION, AUCTION_PROTOCOL, AUCTION_SESSION_PROTOCOL, BLOB_PROTOCOL, LEDGER_SUMMARIES_PROTOCOL, LEDGER_SYNC_PROTOCOL, LEDGER_VERSION, SUMMARY_VERSION, WORKER_PROTOCOL_VERSION } from '../protocols/index.js'
import { DATA_DIR_FORMAT } from './datadir/index.js'

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

/**
 * `gryphgen --version`: the package version, then what peers and workers must agree on (the
 * libp2p protocol ids and the versions inside messages) and the data dir format it reads.
 */
export function versionText (): string {
  return [
    `gryphgen ${VERSION}`,
    `protocols: ${[AUCTION_PROTOCOL, AUCTION_SESSION_PROTOCOL, BLOB_PROTOCOL, LEDGER_SYNC_PROTOCOL, LEDGER_SUMMARIES_PROTOCOL].join(' ')}`,
    `messages: advert v${ADVERT_VERSION}, ledger v${LEDGER_VERSION}, ledger summary v${SUMMARY_VERSION}, worker v${WORKER_PROTOCOL_VERSION}`,
    `data dir format: ${DATA_DIR_FORMAT}`,
  ].join('\n')
}
