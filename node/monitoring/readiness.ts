/**
 * Readiness: whether the node can take work, with the reason for each part that cannot yet.
 * Pure over what the node reports. The sandbox counts as ready once its probe has run, whether
 * or not it found a sandbox (a node without one still serves models and trusted kinds).
 */
import type { ReadyT } from '../api/index.js'

export interface ReadinessView {
  meshStarted: boolean
  ledgerOpen: boolean
  /** The worker pool's state; undefined: not created yet. */
  workers: string | undefined
  /** The sandbox probe's finding; undefined: not run yet. */
  sandbox: { available: boolean } | undefined
}

export function readiness (view: ReadinessView): ReadyT {
  const checks: ReadyT['checks'] = [
    view.meshStarted ? { name: 'mesh', ok: true } : { name: 'mesh', ok: false, reason: 'the libp2p node is not started' },
    view.ledgerOpen ? { name: 'ledger', ok: true } : { name: 'ledger', ok: false, reason: 'the ledger is not open' },
    view.workers === 'running'
      ? { name: 'workers', ok: true }
      : { name: 'workers', ok: false, reason: `the worker pool is ${view.workers ?? 'not created'}, not running (its workers are starting)` },
    view.sandbox === undefined
      ? { name: 'sandbox', ok: false, reason: 'the sandbox probe has not finished' }
      : { name: 'sandbox', ok: true, reason: view.sandbox.available ? 'available' : 'unavailable: this node runs no untrusted code' },
  ]
  return { ready: checks.every(c => c.ok), checks }
}
