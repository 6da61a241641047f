/**
 * `gryphgen doctor` against a real running node started with a bootstrap address under a
 * wrong swarm key: doctor probes the node's own bootstrap list (from GET /v1/node), and its
 * own --bootstrap addresses.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { gatherFacts, diagnose } from '../../node/doctor/index.js'
import { newSwarmKeyHex, nodeTracker, PATIENCE_MS, tempDir, removeTempDirs, waitFor } from '../helpers/nodes.js'
import { killAll, runCli } from '../helpers/processes.js'

const nodes = nodeTracker()
afterEach(async () => {
  await nodes.stopAll()
  await killAll()
  await removeTempDirs()
})

describe('doctor and bootstrap addresses', () => {
  test('a node started with --bootstrap under another swarm key: doctor probes that address, not "no bootstrap peers"', async () => {
    const other = await nodes.start({ swarmKey: newSwarmKeyHex() })
    const target = other.addresses()[0]
    const dataDir = await tempDir()
    await nodes.start({ swarmKey: newSwarmKeyHex(), dataDir, bootstrap: [target] })
    // Doctor is given no bootstrap address of its own: the node's list is what it must find.
    let facts = await gatherFacts(dataDir, [], '127.0.0.1', AbortSignal.timeout(PATIENCE_MS))
    expect(facts.node?.bootstrapAddresses).toEqual([target])
    // Once the node has tried the handshake (and doctor's TCP probe got through: on a busy
    // machine one may time out), doctor names the swarm key.
    await waitFor(async () => {
      facts = await gatherFacts(dataDir, [], '127.0.0.1', AbortSignal.timeout(PATIENCE_MS))
      return facts.node?.bootstrap.some(o => o.address === target && !o.ok) === true && facts.bootstrapReachability.some(b => b.tcpOk)
    })
    expect(facts.bootstrapReachability).toMatchObject([{ address: target, tcpOk: true }])
    const findings = diagnose(facts)
    expect(findings.find(f => f.check === 'peers')?.advice ?? '').not.toContain('no bootstrap peers are set')
    const bootstrap = findings.filter(f => f.check === 'bootstrap')
    expect(bootstrap).toHaveLength(1)
    expect(bootstrap[0]).toMatchObject({ severity: 'fail' })
    expect(bootstrap[0].advice).toContain('swarm key')
  }, PATIENCE_MS * 3)

  test('doctor --bootstrap probes the address it is given', async () => {
    const dataDir = await tempDir()
    const address = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWRjxfZ2pwHSkhskHFsuRAFp79ga4VCnXH8iwu2MhxSXyJ'
    const r = await runCli(['doctor', '--data-dir', dataDir, '--bootstrap', address, '--json'])
    const { findings } = JSON.parse(r.stdout) as { findings: Array<{ check: string, message: string }> }
    expect(findings.filter(f => f.check === 'bootstrap').map(f => f.message)).toEqual([expect.stringContaining(address)])
  }, PATIENCE_MS * 2)
})
