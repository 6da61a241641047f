/** A stand-in node for tests of the HTTP API's own behaviour (routes, auth, documents): every call answers empty. */
import type { ApiNode } from '../../node/api/index.js'
import { NotFoundError } from '../../base/index.js'
import { caps, taskStats, workerStats } from './fixtures.js'

const missing = async (what: string): Promise<never> => { throw new NotFoundError(`no ${what}`) }

export function emptyApiNode (): ApiNode {
  return {
    peerId: 'peer-empty',
    version: '0.0.0-test',
    describe: async () => ({
      peerId: 'peer-empty', name: 'empty', startedAt: new Date(0).toISOString(), addresses: [], connections: { inbound: 0, outbound: 0 },
      capabilities: caps, adverts: { published: 0, accepted: 0, rejected: 0, stale: 0 }, bootstrap: [], mdns: false, workers: workerStats, tasks: taskStats,
    }),
    peers: () => [],
    meshModels: () => [],
    setLabels: async () => {},
    ledgerStatus: () => ({ entries: 0, indexed: 0, versionVector: {} }),
    taskHistory: async () => undefined,
    statsHistory: () => ({ intervalMs: 15_000, samples: [] }),
    ledgerPeers: () => ({ peers: [] }),
    compactLedger: async () => missing('ledger compaction'),
    ledgerRetention: async () => ({}),
    tasks: {
      submit: async () => missing('task service'),
      get: async id => missing(`task ${id}`),
      list: async () => [],
      listPage: async () => ({ tasks: [] }),
      cancel: async id => missing(`task ${id}`),
      submitWatched: async () => missing('task service'),
      subscribe: () => undefined,
      getBlob: async digest => missing(`blob ${digest}`),
      feedback: async id => missing(`task ${id}`),
    },
    blobs: { pin: async () => missing('blob'), unpin: async () => missing('blob'), status: () => ({ blobs: 0, bytes: 0, pinned: 0, maxBytes: 0 }) as never, collect: async () => missing('blob gc') },
    corpora: { list: () => [], addBody: async () => missing('corpus'), query: async () => [], remove: async () => missing('corpus') },
    modelFetch: { request: async name => missing(`model ${name} in the mesh`) },
  }
}
