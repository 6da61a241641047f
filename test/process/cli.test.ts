import { afterEach, describe, expect, test } from 'vitest'
import { access, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { execFileSync } from 'node:child_process'
import { PATIENCE_MS, tempDir, removeTempDirs, waitFor } from '../helpers/nodes.js'
import { spawnNode, waitReady, runCli, stopNode, killAll, nodeApi, type NodeProcess } from '../helpers/processes.js'

afterEach(async () => {
  await killAll()
  await removeTempDirs()
})

const peersOf = async (dataDir: string): Promise<string[]> => {
  const r = await runCli(['peers', '--json', '--data-dir', dataDir])
  if (r.code !== 0) return []
  return (JSON.parse(r.stdout) as { peers: Array<{ peerId: string }> }).peers.map(p => p.peerId).sort()
}
const nodeJson = async (dataDir: string): Promise<{ peerId: string, addresses: string[] }> => {
  const r = await runCli(['node', '--json', '--data-dir', dataDir])
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as { peerId: string, addresses: string[] }
}

describe('gryphgen as processes', () => {
  test('3 nodes started as separate processes find each other through an invite', async () => {
    const [dirA, dirB, dirC] = await Promise.all([tempDir(), tempDir(), tempDir()])
    const init = await runCli(['init', '--data-dir', dirA, '--json'])
    expect(init.code).toBe(0)
    const a = spawnNode(dirA)
    await waitReady(a)
    const invite = await runCli(['invite', '--data-dir', dirA])
    expect(invite.code).toBe(0)
    const text = invite.stdout.trim()
    expect(text.split('\n')).toHaveLength(1) // alone on stdout
    const b = spawnNode(dirB, ['--join', text])
    const c = spawnNode(dirC, ['--join', text])
    await Promise.all([waitReady(b), waitReady(c)])
    const ids = await Promise.all([dirA, dirB, dirC].map(async d => (await nodeJson(d)).peerId))
    // Polled over HTTP (a CLI process per poll would load the machine it waits on); the CLI's
    // own `peers` is checked below.
    const peersOver = async (n: NodeProcess): Promise<string[]> => (await nodeApi<{ peers: Array<{ peerId: string }> }>(n, 'GET', '/v1/peers')).body.peers.map(p => p.peerId)
    await waitFor(async () => {
      const seen = await Promise.all([a, b, c].map(peersOver))
      return seen.every((list, i) => list.length === 2 && !list.includes(ids[i]))
    }, undefined, 250)
    expect((await peersOf(dirB)).sort()).toEqual([ids[0], ids[2]].sort())
    // The invited nodes share the inviter's swarm key and remember its addresses.
    expect(await readFile(join(dirB, 'swarm.key'), 'utf8')).toBe(await readFile(join(dirA, 'swarm.key'), 'utf8'))
    expect(JSON.parse(await readFile(join(dirC, 'bootstrap.json'), 'utf8'))[0]).toContain(ids[0])
    const table = await runCli(['peers', '--data-dir', dirA])
    expect(table.stdout).toContain('PEER')
    expect(table.stdout.split('\n').length).toBeGreaterThanOrEqual(3)
  })

  test('identity is stable across a restart; SIGTERM stops cleanly', async () => {
    const dir = await tempDir()
    const first = spawnNode(dir)
    await waitReady(first)
    const id = (await nodeJson(dir)).peerId
    expect(await stopNode(first)).toBe(0)
    await expect(access(join(dir, 'api-port'))).rejects.toThrow() // removed on a clean stop
    await expect(access(join(dir, 'workers.sock'))).rejects.toThrow() // the broker's ipc socket too
    const second = spawnNode(dir)
    await waitReady(second)
    expect((await nodeJson(dir)).peerId).toBe(id)
  })

  test('the API without a token answers 401; health needs none', async () => {
    const dir = await tempDir()
    const n = spawnNode(dir)
    await waitReady(n)
    const url = await n.apiUrl()
    expect((await fetch(`${url}/v1/peers`)).status).toBe(401)
    expect((await fetch(`${url}/v1/peers`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    const health = await fetch(`${url}/v1/health`)
    expect(health.status).toBe(200)
    expect((await health.json() as { ok: boolean }).ok).toBe(true)
    expect((await fetch(`${url}/v1/peers`, { headers: { authorization: `Bearer ${await n.token()}` } })).status).toBe(200)
  })

  test('a bad config exits 2 listing every problem', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'gryphgen.json'), JSON.stringify({ apiPort: 'eighty', nonsense: true }))
    const r = await runCli(['start', '--data-dir', dir, '--no-mdns', '--listen', 'not-an-addr', '--log-level', 'loud'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('ConfigError')
    for (const word of ['apiPort', 'nonsense', 'not-an-addr', 'logLevel']) expect(r.stderr).toContain(word)
    const env = await runCli(['start', '--data-dir', dir, '--no-mdns'], { env: { GRYPHGEN_API_PORT: 'x' } })
    expect(env.code).toBe(2)
  })

  test('bad flags and a malformed invite exit 2 with a clear error', async () => {
    const dir = await tempDir()
    expect((await runCli(['start', '--data-dir', dir, '--no-such-flag'])).code).toBe(2)
    const bad = await runCli(['start', '--data-dir', dir, '--no-mdns', '--join', 'gryphgen-invite-v1:garbage'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('InvalidInviteError')
  })

  test('a port in use is a clear error naming it', async () => {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    try {
      const dir = await tempDir()
      const api = await runCli(['start', '--data-dir', dir, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', String(port)])
      expect(api.code).toBe(1)
      expect(api.stderr).toContain('AddressInUseError')
      expect(api.stderr).toContain(String(port))
      const p2p = await runCli(['start', '--data-dir', dir, '--no-mdns', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--api-port', '0'])
      expect(p2p.code).toBe(1)
      expect(p2p.stderr).toContain('AddressInUseError')
      expect(p2p.stderr).toContain(String(port))
      // The failed starts left no worker process behind.
      await waitFor(() => !execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(dir), 5000, 100)
    } finally {
      server.close()
    }
  })

  test('a second node on the same data dir is refused; the CLI without a node explains', async () => {
    const dir = await tempDir()
    const n = spawnNode(dir)
    await waitReady(n)
    const second = await runCli(['start', '--data-dir', dir, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0'])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain('DataDirError')
    const empty = await tempDir()
    const peers = await runCli(['peers', '--data-dir', empty])
    expect(peers.code).toBe(1)
    expect(peers.stderr).toContain('NodeNotRunningError')
    // invite on a mesh's data dir whose node is down: it needs the running node, and says how to start it.
    expect((await runCli(['init', '--data-dir', empty])).code).toBe(0)
    const invite = await runCli(['invite', '--data-dir', empty])
    expect(invite.code).toBe(1)
    expect(invite.stderr).toContain('invite needs the running node')
    expect(invite.stderr).toContain(`gryphgen start --data-dir ${empty}`)
  })

  test('doctor explains a node that cannot reach its bootstrap peer', async () => {
    const dir = await tempDir()
    const dead = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWRjxfZ2pwHSkhskHFsuRAFp79ga4VCnXH8iwu2MhxSXyJ'
    const n = spawnNode(dir, ['--bootstrap', dead])
    await waitReady(n)
    const r = await runCli(['doctor', '--json', '--data-dir', dir])
    expect(r.code).toBe(1)
    const { findings } = JSON.parse(r.stdout) as { findings: Array<{ check: string, severity: string }> }
    expect(findings.find(f => f.check === 'peers')?.severity).toBe('fail')
    expect(findings.find(f => f.check === 'node')?.severity).toBe('ok')
    // The node itself says so in its log.
    await waitFor(() => n.output().includes('no bootstrap peer accepts a connection'), PATIENCE_MS, 100)
  })

  test('a node whose bootstrap peer has another swarm key warns that the keys most likely differ', async () => {
    const member = spawnNode(await tempDir())
    await waitReady(member)
    const address = (await nodeJson(member.dataDir)).addresses[0]
    const stranger = spawnNode(await tempDir(), ['--bootstrap', address]) // a swarm key of its own
    await waitReady(stranger)
    await waitFor(() => stranger.output().includes('the swarm keys most likely differ'), PATIENCE_MS, 100)
    expect(stranger.output()).toMatch(/"level":(40|"warn")/)
  })
})
