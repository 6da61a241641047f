/**
 * The auction's settings as the task system takes them. The node's config validates them
 * (node/config/schema.ts, `auction`) and docs/ARCHITECTURE.md explains each.
 */
export interface AuctionConfig {
  /** Candidates asked for bids per auction (the best k by predicted cost). */
  bidders: number
  /** How long an auctioneer waits for bids. */
  bidTimeoutMs: number
  /** An awarded task whose holder sends no heartbeat for this long is re-auctioned. */
  leaseMs: number
  /** Lease renewal (gossip) interval; well under leaseMs. */
  heartbeatMs: number
  /** Attempts per task before it is abandoned (failed). */
  maxAttempts: number
  /** Queue aging: a waiting task gains one priority level per agingMs. */
  agingMs: number
}
