/** Sync lag per peer: how many entries this node holds that a peer lacked when it last synced from it. Pure. */
export interface PeerLag { peerId: string, behind: number, syncedAt: number }

export function syncLag (heads: Readonly<Record<string, number>>, peers: ReadonlyMap<string, { vv: Readonly<Record<string, number>>, at: number }>): PeerLag[] {
  return [...peers].map(([peerId, { vv, at }]) => {
    let behind = 0
    for (const [author, head] of Object.entries(heads)) behind += Math.max(0, head - (vv[author] ?? 0))
    return { peerId, behind, syncedAt: at }
  })
}
