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
  // A quiet stream answers (headers) at once, not at its first event: this one has none to come.
  const all = await fetch(`${node.apiUrl}/v1/events?states=succeeded`, { headers, signal: AbortSignal.timeout(30_000) })
  const one = await fetch(`${node.apiUrl}/v1/tasks/${id}/events`, { headers, signal: AbortSignal.timeout(30_000) })
  expect([all.status, one.status]).toEqual([200, 200])
  const bodies = Promise.all([all.text(), one.text()])
  await node.stop() // open streams do not hold it (the test's own deadline fails a stop that hangs)
  const [, text] = await bodies // both streams ended by the server
  expect(text).toMatch(/^event: state\ndata: .*"state":"pending"/m)
})

test('a bad states filter on /v1/events is a 400', async () => {
  const node = await startTestNode({ swarmKey: newSwarmKeyHex() })
  try {
    const token = (await readFile(join(node.config.dataDir, 'api-token'), 'utf8')).trim()
    const res = await fetch(`${node.apiUrl}/v1/events?states=done`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(400)
  } finally {
    await node.stop()
  }
})
