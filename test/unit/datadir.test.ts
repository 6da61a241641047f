import { afterAll, describe, expect, test } from 'vitest'
import { stat, writeFile, readFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { secretsTooOpen, loadOrCreateIdentity, loadOrCreateSwarmKey, loadOrCreateApiToken, parseSwarmKey, formatSwarmKey, newSwarmKeyHex, readBootstrapFile } from '../../node/datadir/index.js'
import { tempDir, removeTempDirs } from '../helpers/nodes.js'

afterAll(removeTempDirs)

describe('data dir', () => {
  test('keys are created once with mode 0600 and reloaded unchanged', async () => {
    const dir = await tempDir()
    const a = await loadOrCreateIdentity(dir)
    const b = await loadOrCreateIdentity(dir)
    expect(a.created).toBe(true)
    expect(b.created).toBe(false)
    expect(b.key.publicKey.equals(a.key.publicKey)).toBe(true)
    const s1 = await loadOrCreateSwarmKey(dir)
    expect((await loadOrCreateSwarmKey(dir)).key).toBe(s1.key)
    const t = await loadOrCreateApiToken(dir)
    expect(await loadOrCreateApiToken(dir)).toBe(t)
    for (const f of ['identity.key', 'swarm.key', 'api-token']) {
      expect((await stat(join(dir, f))).mode & 0o777).toBe(0o600)
    }
    expect((await readFile(join(dir, 'swarm.key'))).byteLength).toBe(95)
    expect(await secretsTooOpen(dir)).toEqual([])
    await chmod(join(dir, 'api-token'), 0o644)
    expect(await secretsTooOpen(dir)).toEqual([join(dir, 'api-token')])
  })

  test.each([
    ['identity.key', 'garbage', loadOrCreateIdentity],
    ['swarm.key', '/key/swarm/psk/1.0.0/\n/base16/\nxyz', loadOrCreateSwarmKey],
    ['api-token', 'short', loadOrCreateApiToken],
    ['bootstrap.json', '{"not": "a list"}', readBootstrapFile],
  ])('a corrupt %s is a DataDirError and is left in place', async (file, content, load) => {
    const dir = await tempDir()
    await writeFile(join(dir, file), content)
    await expect(load(dir)).rejects.toMatchObject({ name: 'DataDirError' })
    expect(await readFile(join(dir, file), 'utf8')).toBe(content)
  })

  test('swarm key text format round-trips', () => {
    const hex = newSwarmKeyHex()
    expect(parseSwarmKey(formatSwarmKey(hex), 'x')).toBe(hex)
  })
})
