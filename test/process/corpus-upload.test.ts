/**
 * Issue 15 item 4: eight concurrent large corpus uploads to a node that is running tasks for
 * another node's auction. The uploads complete, and no task loses its lease (each succeeds
 * with one attempt): the upload never stalls the node's event loop for a lease (2 s here).
 * The event-loop delay itself is a benchmark figure (`npm run bench:corpus-upload`), not a test.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TaskViewT } from '../../protocols/index.js'
import { PATIENCE_MS, removeTempDirs, tempDir, waitFor } from '../helpers/nodes.js'
import { killAll, nodeApi, startNode, type NodeProcess } from '../helpers/processes.js'

const LEASES = { auction: { leaseMs: 2000, heartbeatMs: 400 }, advert: { baseIntervalMs: 1000, maxReceiveRate: 20 } }
const UPLOADS = 8
const FILES = 64
const FILE_BYTES = 32 * 1024 // 2 MiB an upload

let auctioneer: NodeProcess
let runner: NodeProcess

beforeAll(async () => {
  const aDir = await tempDir()
  auctioneer = await startNode(aDir, { ...LEASES, workers: { exec: { size: 0 } } })
  const address = (await nodeApi<{ addresses: string[] }>(auctioneer, 'GET', '/v1/node')).body.addresses[0]
  const bDir = await tempDir()
  await copyFile(join(aDir, 'swarm.key'), join(bDir, 'swarm.key'))
  runner = await startNode(bDir, { ...LEASES, labels: ['runner'], workers: { exec: { size: 1, slots: 2 } } }, address)
  const peers = async (n: NodeProcess): Promise<number> => (await nodeApi<{ peers: unknown[] }>(n, 'GET', '/v1/peers')).body.peers.length
  await waitFor(async () => (await peers(auctioneer)) === 1 && (await peers(runner)) === 1, PATIENCE_MS, 200)
}, PATIENCE_MS * 3)
afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

const words = 'parse format load save read write fetch send build create update delete lease queue worker token'.split(' ')
function documents (upload: number): Array<{ path: string, text: string }> {
  return Array.from({ length: FILES }, (_, f) => {
    const lines: string[] = []
    for (let n = 0, i = 0; n < FILE_BYTES; i++) {
      const line = `def ${words[(i * 7 + f) % words.length]}_${(i * 31 + upload) % 997}(x): return ${words[i % words.length]} ${words[(i + f) % words.length]}_${i % 89}`
      lines.push(line, ...(i % 5 === 0 ? [''] : []))
      n += line.length + 1
    }
    return { path: `u${upload}/f${f}.py`, text: lines.join('\n') }
  })
}

describe('corpus uploads on a busy node', () => {
  test('8 concurrent 2 MiB uploads complete and no task running on that node loses its lease', async () => {
    const ids: string[] = []
    for (let i = 0; i < 2; i++) {
      const submit = await nodeApi<{ id: string }>(auctioneer, 'POST', '/v1/tasks', { kind: 'exec', command: ['sleep', '8'], requirements: { cpus: 1, memoryMb: 64, labels: ['runner'] }, limits: { timeoutMs: 120_000 } })
      expect(submit.status).toBe(202)
      ids.push(submit.body.id)
    }
    const view = async (id: string): Promise<TaskViewT> => (await nodeApi<TaskViewT>(auctioneer, 'GET', `/v1/tasks/${id}`)).body
    await waitFor(async () => (await Promise.all(ids.map(view))).every(v => v.state === 'running'), PATIENCE_MS, 100)

    const url = await runner.apiUrl()
    const token = await runner.token()
    const uploads = await Promise.all(Array.from({ length: UPLOADS }, async (_, i) => {
      const res = await fetch(`${url}/v1/corpora/c${i}/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ documents: documents(i) }),
        signal: AbortSignal.timeout(PATIENCE_MS * 8),
      })
      return { status: res.status, body: await res.json() as { chunks: number, sources: number } }
    }))
    for (const u of uploads) {
      expect(u.status, JSON.stringify(u.body)).toBe(200)
      expect(u.body.sources).toBe(FILES)
    }

    await waitFor(async () => (await Promise.all(ids.map(view))).every(v => v.state === 'succeeded' || v.state === 'failed'), PATIENCE_MS, 200)
    for (const id of ids) {
      const v = await view(id)
      expect(v.state, JSON.stringify(v.attempts)).toBe('succeeded')
      expect(v.attempts.map(a => a.outcome), JSON.stringify(v.attempts)).toEqual(['succeeded'])
    }
  }, PATIENCE_MS * 10)
})
