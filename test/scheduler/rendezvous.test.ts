import { describe, expect, test } from 'vitest'
import { rendezvousOwner } from '../../scheduler/index.js'

const ids = (n: number, prefix = 'node'): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
const tasks = ids(10_000, 'task')
const owners = (nodes: string[]): string[] => tasks.map(t => rendezvousOwner(t, nodes) as string)

describe('rendezvous hashing', () => {
  const nodes = ids(20)
  const before = owners(nodes)

  test('the same owner whatever the order of the node ids', () => {
    expect(tasks.slice(0, 500).map(t => rendezvousOwner(t, [...nodes].reverse()))).toEqual(before.slice(0, 500))
  })

  test('tasks spread evenly', () => {
    const counts = new Map<string, number>()
    for (const o of before) counts.set(o, (counts.get(o) ?? 0) + 1)
    expect(counts.size).toBe(20)
    for (const c of counts.values()) expect(Math.abs(c - 500)).toBeLessThan(150)
  })

  test('a node leaving moves only its own tasks', () => {
    const after = owners(nodes.filter(n => n !== 'node-7'))
    const moved = tasks.filter((_, i) => before[i] !== after[i]).length
    expect(moved).toBe(before.filter(o => o === 'node-7').length)
    expect(after).not.toContain('node-7')
  })

  test('a node joining takes about 1/n, only to itself', () => {
    const after = owners([...nodes, 'node-new'])
    const moved = tasks.map((_, i) => [before[i], after[i]]).filter(([b, a]) => b !== a)
    for (const [, a] of moved) expect(a).toBe('node-new')
    expect(moved.length / tasks.length).toBeGreaterThan(1 / 21 * 0.7)
    expect(moved.length / tasks.length).toBeLessThan(1 / 21 * 1.3)
  })

  test('no nodes: no owner', () => { expect(rendezvousOwner('t', [])).toBeUndefined() })
})
