/**
 * Signing and opening snapshot pages (protocols/snapshot-page.ts).
 *
 * A server signs each page of summaries it sends with its own key; a client accepts a page
 * only if its signer is a member it trusts (the caller decides: the peer it syncs from, which
 * the swarm key admitted) and the signature holds over the page's digest, before anything of
 * it is written. So a page altered on the way, a forged signature, or a page signed by a
 * non-member is rejected whole. Cost on receipt: one signature check per page (up to
 * SNAPSHOT_PAGE_SUMMARIES summaries), one SHA-256 pass over its bytes, and a parse and shape
 * check per summary. What a trusted member vouches for is taken on its word, as its entries
 * are: each summary still carries its proof entries, which `verifySummary` (summary.ts) checks
 * for an audit, not on join.
 */
import { InvalidMessageError } from '../base/index.js'
import { encodeSnapshotPage, isTerminal, pageDigest, pageSummaries, validateSummary, type SnapshotPage } from '../protocols/index.js'
import { verifyBytes } from './crypto.js'
import type { Summary } from './summary.js'

export interface PageSummary { json: string, summary: Summary }

/** A page frame of stored summary JSON texts, signed by this node. */
export function signPage (sign: (bytes: Uint8Array) => string, signer: string, summaries: readonly string[]): Uint8Array {
  return encodeSnapshotPage(summaries, sign, signer)
}

/** Check a page's signer and signature, then parse its summaries; throws InvalidMessageError, naming what failed. */
export function openPage (page: SnapshotPage, trusted: (peerId: string) => boolean): PageSummary[] {
  if (!trusted(page.signer)) throw new InvalidMessageError(`snapshot page signed by ${page.signer}, not a member this node trusts`)
  if (!verifyBytes(page.signer, pageDigest(page.sizes, page.body), page.sig)) throw new InvalidMessageError(`snapshot page with a bad signature of ${page.signer}`)
  let last = ''
  return pageSummaries(page).map(json => {
    let value: unknown
    try { value = JSON.parse(json) } catch { throw new InvalidMessageError('a snapshot page holds a summary that is not JSON') }
    const summary = validateSummary(value, { proof: 'submitted' }) as unknown as Summary
    const state = summary.state as Partial<Summary['state']> | undefined
    if (typeof state !== 'object' || state.id !== summary.task || state.state === undefined || !isTerminal(state.state) || !Array.isArray(state.attempts)) throw new InvalidMessageError(`summary of ${summary.task}: its state is not a terminal state of this task`)
    if (summary.task <= last) throw new InvalidMessageError('snapshot page summaries are not in ascending task order')
    last = summary.task
    return { json, summary }
  })
}
