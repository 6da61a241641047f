/** Pure reads of a task's spec from the ledger (peer input: checked, never trusted). */
import { describe, expect, test } from 'vitest'
import { avoidOf } from '../../tasks/view.js'
import { programOf } from '../../tasks/kinds.js'

describe('programOf: an exec task\'s class of work', () => {
  test.each<[unknown, string | undefined]>([
    [['sleep', '1'], 'sleep'],
    [['/usr/bin/python3', '-m', 'pytest', '-q'], 'python3 -m pytest'],
    [['python3', 'tests.py'], 'python3'],
    [['sh', '-c', 'make test'], 'sh'],
    [[], undefined],
    [[42], undefined],
    ['sleep 1', undefined],
    [undefined, undefined],
    [['/'], undefined],
    [['x'.repeat(500)], 'x'.repeat(96)],
  ])('%j -> %s', (command, expected) => {
    expect(programOf({ command })).toBe(expected)
  })
})

describe('avoidOf: the peers a task asks to be placed away from', () => {
  test('strings only, at most 16; anything else is no preference', () => {
    expect([...avoidOf({ avoid: ['a', 'b', 7, null] })]).toEqual(['a', 'b'])
    expect(avoidOf({ avoid: Array.from({ length: 40 }, (_, i) => `p${i}`) }).size).toBe(16)
    expect(avoidOf({ avoid: 'a' }).size).toBe(0)
    expect(avoidOf({}).size).toBe(0)
  })
})
