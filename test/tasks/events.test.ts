/** Event streams and the node's lifetime: an open stream never keeps a node from stopping. */
import { afterAll, expect, test } from 'vitest'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { newSwarmKeyHex, removeTempDirs, startTestNode } from '../helpers/nodes.js'

afterAll(removeTempDirs)

test('stopping a node ends its open event streams', async () => {
  const node = await startTestNode({ swarmKey: newSwarmKeyHex() })
  const token = (await readFile(join(node.config.dataDir, 'api-token'), 'utf8')).trim()
  const { id } = await node.tasks.submit({ kind: 'noop', requirements: { labels: ['nowhere'] } }, {})
  const headers = { authorization: `Bearer ${token}` }
  const opened = Date.now()
  const all = await fetch(`${node.apiUrl}/v1/events?states=succeeded`, { headers })
  const one = await fetch(`${node.apiUrl}/v1/tasks/${id}/events`, { headers })
  expect([all.status, one.status]).toEqual([200, 200])
  expect(Date.now() - opened).toBeLessThan(3000) // a quiet stream answers at once, not at its first event
  const bodies = Promise.all([all.text(), one.text()])
  const started = Date.now()
  await node.stop()
  expect(Date.now() - started).toBeLessThan(5000)
  const [, text] = await bodies // both streams ended by the server
  expect(text).toMatch(/^event: state\ndata: .*"state":"pending"/m)
}, 30_000)

test('a bad states filter on /v1/events is a 400', async () => {
  const node = await startTestNode({ swarmKey: newSwarmKeyHex() })
  try {
    const token = (await readFile(join(node.config.dataDir, 'api-token'), 'utf8')).trim()
    const res = await fetch(`${node.apiUrl}/v1/events?states=done`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(400)
  } finally {
    await node.stop()
  }
}, 30_000)
