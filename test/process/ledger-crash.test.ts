import { afterEach, expect, test } from 'vitest'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, removeTempDirs, waitFor } from '../helpers/nodes.js'
import { spawnNode, waitReady, killAll } from '../helpers/processes.js'

afterEach(async () => {
  await killAll()
  await removeTempDirs()
})

const FIXTURE = fileURLToPath(new URL('../fixtures/ledger-writer.ts', import.meta.url))

test('kill -9 right after acknowledged appends: after restart every acked entry is there and replicates', async () => {
  const dir = await tempDir()
  const writer = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const acked: string[] = []
  let out = ''
  writer.stdout.on('data', (d: Buffer) => {
    out += d.toString()
    for (const line of out.split('\n').slice(0, -1)) if (line.startsWith('acked ')) acked.push(line.slice(6))
    out = out.slice(out.lastIndexOf('\n') + 1)
    if (acked.length >= 300 && writer.exitCode === null && !writer.killed) writer.kill('SIGKILL')
  })
  const exit = await new Promise<NodeJS.Signals | null>(resolve => writer.once('exit', (_code, signal) => resolve(signal)))
  expect(exit).toBe('SIGKILL')
  expect(acked.length).toBeGreaterThanOrEqual(300)

  // Restart the same data dir as a real node, plus a fresh peer that joins it.
  const restarted = spawnNode(dir)
  await waitReady(restarted)
  const url = await restarted.apiUrl()
  const token = await restarted.token()
  const get = async (base: string, tok: string, path: string): Promise<Response> => fetch(base + path, { headers: { authorization: `Bearer ${tok}` } })
  const status = await (await get(url, token, '/v1/ledger/status')).json() as { entries: number, versionVector: Record<string, number> }
  expect(status.entries).toBeGreaterThanOrEqual(acked.length)
  // The peer must catch up at least to the writer's chain as it was at restart (the node may
  // write more entries of its own meanwhile).
  const [writerId, writerSeq] = Object.entries(status.versionVector)[0]
  for (const task of [acked[0], acked[acked.length - 1], acked[Math.floor(acked.length / 2)]]) {
    expect((await get(url, token, `/v1/tasks/${task}/history`)).status).toBe(200)
  }

  const peerDir = await tempDir()
  await copyFile(join(dir, 'swarm.key'), join(peerDir, 'swarm.key'))
  const { addresses } = await (await get(url, token, '/v1/node')).json() as { addresses: string[] }
  const peer = spawnNode(peerDir, ['--bootstrap', addresses[0]])
  await waitReady(peer)
  const peerUrl = await peer.apiUrl()
  const peerToken = await peer.token()
  await waitFor(async () => (((await (await get(peerUrl, peerToken, '/v1/ledger/status')).json()) as { versionVector: Record<string, number> }).versionVector[writerId] ?? 0) >= writerSeq, 15_000, 100)
  const last = acked[acked.length - 1]
  await waitFor(async () => (await get(peerUrl, peerToken, `/v1/tasks/${last}/history`)).status === 200, 10_000, 50)
  const history = await (await get(peerUrl, peerToken, `/v1/tasks/${last}/history`)).json() as { entries: Array<{ task: string, type: string }> }
  expect(history.entries[0]).toMatchObject({ task: last, type: 'submitted' })
})
