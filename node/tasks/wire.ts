/**
 * The auction protocol's transport: one length-prefixed request per stream, answered by one
 * reply (or, for `follow`, a series of them). The handler learns the sender from the
 * connection (authenticated by noise), never from the message. Every stream has a deadline.
 */
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Stream } from '@libp2p/interface'
import { AUCTION_MAX_BYTES, AUCTION_PROTOCOL, decodeAuctionMessage, encodeAuctionMessage, type AuctionMessage } from '../../protocols/auction.js'
import { InvalidMessageError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Mesh } from '../mesh/libp2p.js'

export type WireHandler = (message: AuctionMessage, from: string, send: (reply: AuctionMessage) => Promise<void>, signal: AbortSignal) => Promise<void>

export interface AuctionWireComponents { mesh: Pick<Mesh, 'handle' | 'unhandle' | 'dialProtocol'>, logger: Logger }

export class AuctionWire {
  readonly stats = { served: 0, malformed: 0 }
  readonly #c: AuctionWireComponents
  readonly #abort = new AbortController()
  readonly #timeoutMs: number

  constructor (components: AuctionWireComponents, init: { timeoutMs?: number } = {}) {
    this.#c = components
    this.#timeoutMs = init.timeoutMs ?? 10_000
  }

  async start (handler: WireHandler): Promise<void> {
    await this.#c.mesh.handle(AUCTION_PROTOCOL, async (stream: Stream, connection: Connection) => this.#serve(stream, connection, handler), { maxInboundStreams: 256 })
  }

  async stop (): Promise<void> {
    this.#abort.abort()
    await this.#c.mesh.unhandle(AUCTION_PROTOCOL).catch(() => {})
  }

  async #serve (stream: Stream, connection: Connection, handler: WireHandler): Promise<void> {
    const from = connection.remotePeer.toString()
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#timeoutMs * 30)])
    const lp = lpStream(stream, { maxDataLength: AUCTION_MAX_BYTES })
    const send = async (reply: AuctionMessage): Promise<void> => { await lp.write(encodeAuctionMessage(reply), { signal }) }
    try {
      let message: AuctionMessage
      try {
        message = decodeAuctionMessage((await lp.read({ signal: AbortSignal.any([signal, AbortSignal.timeout(this.#timeoutMs)]) })).subarray())
      } catch (err) {
        if (!(err instanceof InvalidMessageError)) throw err
        this.stats.malformed++
        this.#c.logger.warn({ from, err: err.message }, 'rejected malformed auction message')
        await send({ t: 'error', message: err.message })
        await stream.close({ signal })
        return
      }
      this.stats.served++
      await handler(message, from, send, signal)
      await stream.close({ signal })
    } catch (err) {
      if (!this.#abort.signal.aborted) this.#c.logger.debug({ from, err: (err as Error).message }, 'auction stream failed')
      stream.abort(err as Error)
    }
  }

  /** Send one request to `peer` and read one reply. */
  async request (peer: string, message: AuctionMessage, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<Uint8Array> {
    let reply: Uint8Array | undefined
    await this.exchange(peer, message, bytes => { reply = bytes; return false }, options)
    if (reply === undefined) throw new InvalidMessageError(`peer ${peer} closed the stream without a reply`)
    return reply
  }

  /** Send one request and pass each reply to `onReply` until it returns false or the peer closes. */
  async exchange (peer: string, message: AuctionMessage, onReply: (bytes: Uint8Array) => boolean, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<void> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs), ...(options.signal === undefined ? [] : [options.signal])])
    const stream = await this.#c.mesh.dialProtocol(peerIdFromString(peer), AUCTION_PROTOCOL, { signal })
    try {
      const lp = lpStream(stream, { maxDataLength: AUCTION_MAX_BYTES })
      await lp.write(encodeAuctionMessage(message), { signal })
      for (;;) {
        let bytes: Uint8Array
        try {
          bytes = (await lp.read({ signal })).subarray()
        } catch (err) {
          if ((err as Error).name === 'UnexpectedEOFError') break
          throw err
        }
        if (!onReply(bytes)) break
      }
      await stream.close({ signal }).catch(() => {})
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }
}
