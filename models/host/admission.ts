/**
 * Which loaded models to unload so that a new one fits the memory budget: least recently used
 * first, never one that is serving a request. Pure.
 */

/** A model (or a reservation for one being loaded) that holds memory. */
export interface ResidentModel {
  key: string
  bytes: number
  /** When it was last used, in any increasing unit: the smallest is unloaded first. */
  lastUsed: number
  /** Requests using it now; a model in use is never unloaded. */
  active: number
  /** Never unloaded for this admission (the requester's own model), even when idle. */
  pinned?: boolean
}

export type AdmissionPlan =
  /** Unload these (possibly none), least recently used first; then the new one fits. */
  | { kind: 'fits', evict: string[] }
  /** It fits once some models in use become idle and are unloaded: wait and plan again. */
  | { kind: 'wait' }
  /** It cannot fit even with everything unpinned unloaded. */
  | { kind: 'too-large' }

export function planAdmission (resident: readonly ResidentModel[], needBytes: number, budgetBytes: number): AdmissionPlan {
  const pinnedBytes = resident.reduce((n, m) => n + (m.pinned === true ? m.bytes : 0), 0)
  if (needBytes + pinnedBytes > budgetBytes) return { kind: 'too-large' }
  let used = resident.reduce((n, m) => n + m.bytes, 0)
  const evictable = resident
    .filter(m => m.active === 0 && m.pinned !== true)
    .sort((a, b) => a.lastUsed - b.lastUsed || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const evict: string[] = []
  for (const model of evictable) {
    if (used + needBytes <= budgetBytes) break
    evict.push(model.key)
    used -= model.bytes
  }
  return used + needBytes <= budgetBytes ? { kind: 'fits', evict } : { kind: 'wait' }
}
