/**
 * CPU priorities (issue 20, item 1): a sandboxed task's processes run at the configured
 * niceness (`priority.taskNice`, read from the task's own /proc/self/stat inside the sandbox),
 * while the node's own process keeps its niceness. Real node, real worker process, real sandbox.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { newSwarmKeyHex, nodeTracker, waitFor } from '../helpers/nodes.js'
import type { GryphgenNode } from '../../node/node.js'
import type { TaskViewT } from '../../protocols/task.js'

const TASK_NICE = 13
const nodes = nodeTracker()
let node: GryphgenNode

/** Field 19 of /proc/PID/stat (after the parenthesised command name, which may hold spaces). */
const niceOf = (stat: string): number => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])

beforeAll(async () => {
  node = await nodes.start({ swarmKey: newSwarmKeyHex(), execWorkers: 1, priority: { taskNice: TASK_NICE } })
  await waitFor(() => node.workers.workers().some(w => w.kind === 'exec'))
})
afterAll(async () => { await nodes.stopAll() })

const over = (t: TaskViewT): boolean => ['succeeded', 'failed', 'cancelled'].includes(t.state)

test('a sandboxed task runs at the configured niceness; the node itself does not', async () => {
  const { id } = await node.tasks.submit({ kind: 'exec', command: ['sh', '-c', 'cat /proc/self/stat'], requirements: { cpus: 1, memoryMb: 64 } }, {})
  await waitFor(async () => over(await node.tasks.get(id)), undefined, 50)
  const view = await node.tasks.get(id)
  expect(view.state).toBe('succeeded')
  expect(niceOf(String(view.result?.stdout))).toBe(TASK_NICE)
  expect(niceOf(readFileSync('/proc/self/stat', 'utf8'))).toBe(0)
  const worker = node.workers.workers().find(w => w.kind === 'exec')
  expect(niceOf(readFileSync(`/proc/${worker?.pid}/stat`, 'utf8'))).toBe(TASK_NICE)
})
