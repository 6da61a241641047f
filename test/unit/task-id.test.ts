/** Task ids from the pooled random bytes (tasks/task-id.ts): well formed and distinct across pool refills. */
import { expect, test } from 'vitest'
import { newTaskId } from '../../tasks/task-id.js'
import { TaskIdSchema } from '../../protocols/index.js'

test('task ids carry their time and 48 random bits, and do not repeat across pool refills', () => {
  const ids = Array.from({ length: 3000 }, () => newTaskId(1_700_000_000_000))
  for (const id of ids) expect(id).toMatch(/^[0-9a-z]+-[A-Za-z0-9_-]{8}$/)
  expect(new RegExp((TaskIdSchema as { pattern?: string }).pattern ?? '').test(ids[0])).toBe(true)
  expect(ids[0].split('-')[0]).toBe((1_700_000_000_000).toString(36))
  expect(new Set(ids).size).toBe(ids.length)
})
