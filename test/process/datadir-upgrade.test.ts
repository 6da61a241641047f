/**
 * Upgrades: a data dir written by gryphgen 0.1.0 (test/fixtures/datadir-0.1.0, made by that
 * version's `init` and a first `start`) is migrated in place when a node starts on it and keeps
 * its identity; a data dir of a newer format is refused with DataDirTooNewError and left as it was.
 */
import { chmod, cp, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { removeTempDirs, tempDir } from '../helpers/nodes.js'
import { killAll, nodeApi, runCli, spawnNode, stopNode, waitReady, LOOPBACK_FLAGS } from '../helpers/processes.js'
import { DATA_DIR_FORMAT, FORMAT_FILE, ensureDataDirFormat, readDataDirFormat } from '../../node/datadir/index.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/datadir-0.1.0', import.meta.url))

afterAll(async () => {
  await killAll()
  await removeTempDirs()
})

/** A private copy of the fixture, with the secret files' modes as a node writes them (git keeps 0644). */
async function fixtureCopy (): Promise<string> {
  const dir = join(await tempDir('gryphgen-upgrade-'), 'data')
  await cp(FIXTURE, dir, { recursive: true })
  for (const f of ['identity.key', 'swarm.key', 'api-token', 'worker-token']) await chmod(join(dir, f), 0o600)
  return dir
}

describe('data dir format', () => {
  test('a node started on a 0.1.0 data dir migrates it and keeps its identity', async () => {
    const dir = await fixtureCopy()
    expect(await readDataDirFormat(dir)).toBe(0)
    const peerId = peerIdFromPrivateKey(privateKeyFromProtobuf(await readFile(join(dir, 'identity.key')))).toString()
    const node = spawnNode(dir)
    try {
      await waitReady(node)
      const health = await nodeApi<{ ok: boolean, peerId: string }>(node, 'GET', '/v1/health')
      expect(health.body).toMatchObject({ ok: true, peerId })
      expect(JSON.parse(await readFile(join(dir, FORMAT_FILE), 'utf8'))).toMatchObject({ format: DATA_DIR_FORMAT })
    } finally {
      expect(await stopNode(node)).toBe(0)
    }
  })

  test('a data dir from a newer gryphgen is refused and left unchanged', async () => {
    const dir = await fixtureCopy()
    const newer = JSON.stringify({ format: DATA_DIR_FORMAT + 1, writtenBy: '99.0.0' }) + '\n'
    await writeFile(join(dir, FORMAT_FILE), newer)
    const before = (await readdir(dir)).sort()
    const result = await runCli(['start', '--data-dir', dir, ...LOOPBACK_FLAGS])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('DataDirTooNewError')
    expect(await readFile(join(dir, FORMAT_FILE), 'utf8')).toBe(newer)
    expect((await readdir(dir)).sort()).toEqual(before)
  })

  test('a new data dir is stamped with the current format; a corrupt format file is a DataDirError', async () => {
    const fresh = await tempDir('gryphgen-format-')
    expect(await ensureDataDirFormat(fresh, 'test')).toMatchObject({ found: null, format: DATA_DIR_FORMAT, migrated: false })
    expect(await readDataDirFormat(fresh)).toBe(DATA_DIR_FORMAT)
    await writeFile(join(fresh, FORMAT_FILE), '{"format": "one"}')
    await expect(ensureDataDirFormat(fresh, 'test')).rejects.toMatchObject({ name: 'DataDirError' })
  })
})
