/**
 * Rendezvous (highest random weight) hashing: every node computes the same owner for a task
 * from the same set of live node ids, with no coordination. When a node joins or leaves, only
 * the tasks it wins or held move (about 1/n of them). Used to pick who takes over an orphaned
 * auction, and to break ranking ties without favouring any one node. Pure.
 */

/** cyrb53: a fast, well-mixed 53-bit string hash (not cryptographic; ids are not secret). */
export function hash53 (text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed
  let h2 = 0x41c6ce57 ^ seed
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

export function rendezvousWeight (key: string, nodeId: string): number {
  return hash53(`${key}\u0000${nodeId}`)
}

/** The node with the highest weight for `key`; ties (never in practice) go to the lower id. */
export function rendezvousOwner (key: string, nodeIds: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestWeight = -1
  for (const id of nodeIds) {
    const w = rendezvousWeight(key, id)
    if (w > bestWeight || (w === bestWeight && best !== undefined && id < best)) { best = id; bestWeight = w }
  }
  return best
}
