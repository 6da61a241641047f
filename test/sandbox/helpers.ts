/** Helpers for the sandbox's integration tests: host process checks and unique markers. */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { listProcesses, type HostProcess } from '../../sandbox/procfs.js'
import { SANDBOX_UID_RANGE } from '../../sandbox/uid-pool.js'
import { PATIENCE_MS } from '../helpers/nodes.js'

export const marker = (): string => `gryphgen-marker-${randomUUID()}`

/** Live host processes whose command line contains `text` (zombies run nothing). */
export async function processesWith (text: string): Promise<HostProcess[]> {
  return (await listProcesses()).filter(p => p.cmdline.includes(text) && p.state !== 'Z' && p.pid !== process.pid)
}

export const inSandboxUidRange = (uid: number): boolean =>
  uid >= SANDBOX_UID_RANGE.first && uid < SANDBOX_UID_RANGE.first + SANDBOX_UID_RANGE.count

/** Waits until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T> (check: () => Promise<T | undefined>, timeoutMs = PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(20)
  }
}
