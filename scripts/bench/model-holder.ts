/**
 * The holder of bench:model-fetch: a mesh (the node's real stack: pnet, noise, yamux) whose
 * model store holds a padded test model of `chunks` chunks, served by a ModelServer.
 * `startModelHolder` runs it in the calling process; `spawnModelHolder` runs it as a node
 * process of its own (this file, forked), which tells its parent over IPC where it listens and
 * what it holds, and stops when told to or when its parent goes away.
 */
import '../../base/polyfill.js'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { silentLogger, type Logger } from '../../base/index.js'
import { ModelServer, ModelStore } from '../../models/index.js'
import { createMesh, startMesh } from '../../node/mesh/libp2p.js'
import type { SwarmKeyHex } from '../../node/datadir/swarm-key.js'
import { paddedTestModel } from './padded-model.js'

export interface HeldBenchModel { address: string, peerId: string, digest: string, bytes: number, path: string }
export interface BenchHolder extends HeldBenchModel { stop: () => Promise<void> }

export async function startModelHolder (dir: string, swarmKey: SwarmKeyHex, chunks: number, logger: Logger): Promise<BenchHolder> {
  const mesh = await createMesh({ privateKey: await generateKeyPair('Ed25519'), swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  await startMesh(mesh, ['/ip4/127.0.0.1/tcp/0'])
  const store = await ModelStore.open({ dataDir: join(dir, 'holder') })
  const source = await paddedTestModel(join(dir, 'source.gguf'), chunks)
  const { model: held } = await store.add(source.path, { name: 'bench', link: true })
  const server = new ModelServer({ mesh, lookup: async d => d === held.digest ? { path: held.path, digest: d, size: held.bytes, mtimeMs: 0 } : undefined, logger })
  await server.start()
  return {
    address: mesh.getMultiaddrs()[0].toString(),
    peerId: mesh.peerId.toString(),
    digest: held.digest,
    bytes: held.bytes,
    path: source.path,
    stop: async () => {
      await server.stop()
      await mesh.stop()
    },
  }
}

const SELF = fileURLToPath(import.meta.url)

/** The holder in a process of its own (`pid`: for its CPU time). */
export async function spawnModelHolder (dir: string, swarmKey: SwarmKeyHex, chunks: number): Promise<BenchHolder & { pid: number }> {
  const child = fork(SELF, [dir, swarmKey, String(chunks)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
  const exited = once(child, 'exit')
  const facts = await Promise.race([
    once(child, 'message').then(([message]) => message as HeldBenchModel),
    exited.then(([code]) => { throw new Error(`the holder process exited (${String(code)}) before it was ready`) }),
  ])
  return {
    ...facts,
    pid: child.pid as number,
    stop: async () => {
      child.send('stop')
      await exited
    },
  }
}

if (process.argv[1] === SELF && process.send !== undefined) {
  const [dir, swarmKey, chunks] = process.argv.slice(2)
  const holder = await startModelHolder(dir, swarmKey as SwarmKeyHex, Number(chunks), silentLogger())
  const { stop, ...facts } = holder
  let ending: Promise<void> | undefined
  const end = (): void => { ending ??= stop().finally(() => process.exit(0)) }
  process.once('message', end)
  process.once('disconnect', end) // the parent went away
  process.send(facts)
}
