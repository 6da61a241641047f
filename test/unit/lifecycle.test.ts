import { expect, test } from 'vitest'
import { Lifecycle, silentLogger } from '../../base/index.js'

test('components stop in the reverse of their start order, and a failing stop does not keep the rest running', async () => {
  const order: string[] = []
  const life = new Lifecycle(silentLogger())
  const part = (name: string, failStop = false) => ({ stop: () => { order.push(`stop ${name}`); if (failStop) throw new Error('broken') } })
  await life.add('a', part('a'), () => { order.push('start a') })
  life.defer('b', () => { order.push('stop b') })
  await life.add('c', part('c', true), async () => { order.push('start c') })
  await life.stopAll()
  expect(order).toEqual(['start a', 'start c', 'stop c', 'stop b', 'stop a'])
  expect(life.size).toBe(0)
})

test('a start that fails registers nothing for it; what started before still stops', async () => {
  const stopped: string[] = []
  const life = new Lifecycle(silentLogger())
  await life.add('a', { stop: () => { stopped.push('a') } })
  await expect(life.add('b', { stop: () => { stopped.push('b') } }, () => { throw new Error('cannot start') })).rejects.toThrow('cannot start')
  await life.stopAll()
  expect(stopped).toEqual(['a'])
})
