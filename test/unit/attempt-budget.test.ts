/**
 * Which attempts count against `auction.maxAttempts` (tasks/attempt-budget.ts): only those
 * that started running; attempts that never ran are bounded apart.
 */
import { expect, test } from 'vitest'
import { attemptsSpent, gaveUpReason, UNSTARTED_FACTOR } from '../../tasks/attempt-budget.js'

const ran = { startedAt: 1, node: '12D3KooWaaaaaaaa', outcome: 'lost' as const, error: 'lease expired' }
const neverRan = { node: '12D3KooWbbbbbbbb', outcome: 'lost' as const, error: 'award declined: unreachable: ECONNREFUSED' }

test.each([
  { name: 'no attempt', attempts: [], spent: false },
  { name: 'two runs of three', attempts: [ran, ran], spent: false },
  { name: 'three runs', attempts: [ran, ran, ran], spent: true },
  // The chaos run's failed task: an award to a node killed after its bid, then two runs lost to restarts.
  { name: 'an undelivered award and two runs', attempts: [neverRan, ran, ran], spent: false },
  { name: 'undelivered awards only, below the bound', attempts: Array(3 * UNSTARTED_FACTOR - 1).fill(neverRan), spent: false },
  { name: 'undelivered awards only, at the bound', attempts: Array(3 * UNSTARTED_FACTOR).fill(neverRan), spent: true },
])('$name: spent $spent (maxAttempts 3)', ({ attempts, spent }) => {
  expect(attemptsSpent(attempts, 3)).toBe(spent)
})

test('the reason names every attempt, and how many started when not all did', () => {
  expect(gaveUpReason([ran, ran, ran])).toBe('gave up after 3 attempts: aaaaaaaa lease expired; aaaaaaaa lease expired; aaaaaaaa lease expired')
  expect(gaveUpReason([neverRan, ran])).toMatch(/^gave up after 2 attempts \(1 started\): bbbbbbbb award declined.*; aaaaaaaa lease expired$/)
})
