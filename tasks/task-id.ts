/**
 * Task ids: the submission time (ms, base 36) and 48 random bits, `lqz3k1c0-Xy_9aB3c`. The
 * random bytes come from a pool filled by one `randomFillSync` per 512 ids: a call per id cost
 * more than the rest of making it (~13 µs each in the bench:tasks profile).
 */
import { randomFillSync } from 'node:crypto'

const ID_BYTES = 6
const POOL_IDS = 512
const pool = Buffer.alloc(ID_BYTES * POOL_IDS)
let next = POOL_IDS

export function newTaskId (now = Date.now()): string {
  if (next === POOL_IDS) { randomFillSync(pool); next = 0 }
  const at = next++ * ID_BYTES
  return `${now.toString(36)}-${pool.toString('base64url', at, at + ID_BYTES)}`
}
