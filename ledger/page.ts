/**
 * Paging through tasks: newest first (by submission), or of one state (in task id order).
 * Compacted and live tasks page alike: the state and recency indexes hold both. The cursor is
 * the last index key of a page, opaque to clients (base64url); a page is read at one moment,
 * so a task that changes state between two pages of a state list may be missed or repeated.
 */
import { InvalidMessageError } from '../base/index.js'
import type { TaskStateName } from '../protocols/index.js'
import type { TaskState } from './fold.js'
import { END, P } from './store.js'
import type { TaskLedger } from './ledger.js'

export interface TaskPage { states: TaskState[], cursor?: string }

export async function taskPage (ledger: Pick<TaskLedger, 'store' | 'task'>, options: { state?: TaskStateName, limit: number, cursor?: string }): Promise<TaskPage> {
  const prefix = options.state === undefined ? P.recent : `${P.state}${options.state}!`
  const after = options.cursor === undefined ? undefined : Buffer.from(options.cursor, 'base64url').toString('utf8')
  if (after !== undefined && !after.startsWith(prefix)) throw new InvalidMessageError('the cursor is not one this list gave (another state, or not a cursor)')
  const keys = await ledger.store.db.keys(options.state === undefined
    ? { gt: prefix, lt: after ?? prefix + END, reverse: true, limit: options.limit }
    : { gt: after ?? prefix, lt: prefix + END, limit: options.limit }).all()
  const ids = keys.map(k => options.state === undefined ? k.slice(k.indexOf('!') + 1) : k.slice(prefix.length))
  const states = (await Promise.all(ids.map(async id => ledger.task(id)))).filter((s): s is TaskState => s !== undefined)
  return keys.length < options.limit ? { states } : { states, cursor: Buffer.from(keys[keys.length - 1], 'utf8').toString('base64url') }
}
