/**
 * The auction protocol's transport. Requests (`request`) travel on one long-lived session
 * stream per peer (AUCTION_SESSION_PROTOCOL: id-tagged frames, answered in any order), so a
 * bid or an award costs one message each way, not a stream set-up. `exchange` (several
 * replies, e.g. `follow`) opens a stream of its own (AUCTION_PROTOCOL). The handler learns
 * the sender from the connection (authenticated by noise), never from the message. Every
 * request has a deadline; a broken session fails its pending requests and is re-opened by
 * the next one. Bounded: at most `maxSessions` (default 256) sessions are open; a new one
 * beyond closes the least recently used (its pending requests fail; the next request re-opens).
 */
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Stream } from '@libp2p/interface'
import {
  AUCTION_MAX_BYTES, AUCTION_PROTOCOL, AUCTION_SESSION_PROTOCOL, decodeAuctionMessage, encodeAuctionMessage, encodeSessionFrame, splitSessionFrame,
  type AuctionMessage,
} from '../protocols/index.js'
import { InvalidMessageError, type Logger } from '../base/index.js'
import type { TasksMesh } from './mesh.js'

export type WireHandler = (message: AuctionMessage, from: string, send: (reply: AuctionMessage) => Promise<void>, signal: AbortSignal) => Promise<void>

export interface AuctionWireComponents { mesh: Pick<TasksMesh, 'handle' | 'unhandle' | 'dialProtocol'>, logger: Logger }

type Lp = ReturnType<typeof lpStream>
interface Session { stream: Stream, lp: Lp, pending: Map<number, { resolve: (b: Uint8Array) => void, reject: (e: Error) => void }>, nextId: number, entry?: Promise<Session> }

export class AuctionWire {
  readonly stats = { served: 0, malformed: 0, sessions: 0, bidRequests: 0 }
  readonly #c: AuctionWireComponents
  readonly #abort = new AbortController()
  readonly #timeoutMs: number
  readonly #sessions = new Map<string, Promise<Session>>()
  readonly #maxSessions: number

  constructor (components: AuctionWireComponents, init: { timeoutMs?: number, maxSessions?: number } = {}) {
    this.#c = components
    this.#timeoutMs = init.timeoutMs ?? 10_000
    this.#maxSessions = init.maxSessions ?? 256
  }

  /** Sessions open (or opening) now. */
  get sessionCount (): number { return this.#sessions.size }

  async start (handler: WireHandler): Promise<void> {
    await this.#c.mesh.handle(AUCTION_PROTOCOL, async (stream: Stream, connection: Connection) => this.#serveOnce(stream, connection, handler), { maxInboundStreams: 64 })
    await this.#c.mesh.handle(AUCTION_SESSION_PROTOCOL, async (stream: Stream, connection: Connection) => this.#serveSession(stream, connection, handler), { maxInboundStreams: 4 })
  }

  async stop (): Promise<void> {
    this.#abort.abort()
    for (const s of this.#sessions.values()) void s.then(session => { session.stream.abort(new Error('stopping')) }, () => {})
    this.#sessions.clear()
    await this.#c.mesh.unhandle(AUCTION_PROTOCOL).catch(() => {})
    await this.#c.mesh.unhandle(AUCTION_SESSION_PROTOCOL).catch(() => {})
  }

  #malformed (from: string, err: Error): AuctionMessage {
    this.stats.malformed++
    this.#c.logger.warn({ from, err: err.message }, 'rejected malformed auction message')
    return { t: 'error', message: err.message }
  }

  async #serveOnce (stream: Stream, connection: Connection, handler: WireHandler): Promise<void> {
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
        await send(this.#malformed(from, err))
        await stream.close({ signal })
        return
      }
      this.stats.served++
      if (message.t === 'bid?') this.stats.bidRequests++
      await handler(message, from, send, signal)
      await stream.close({ signal })
    } catch (err) {
      if (!this.#abort.signal.aborted) this.#c.logger.debug({ from, err: (err as Error).message }, 'auction stream failed')
      stream.abort(err as Error)
    }
  }

  async #serveSession (stream: Stream, connection: Connection, handler: WireHandler): Promise<void> {
    const from = connection.remotePeer.toString()
    const signal = this.#abort.signal
    const lp = lpStream(stream, { maxDataLength: AUCTION_MAX_BYTES })
    let writing = Promise.resolve()
    const reply = (id: number, message: AuctionMessage): void => {
      writing = writing.then(async () => { await lp.write(encodeSessionFrame(id, message), { signal }) }).catch(err => { stream.abort(err as Error) })
    }
    try {
      for (;;) {
        const frame = (await lp.read({ signal })).subarray()
        const { id, body } = splitSessionFrame(frame)
        let message: AuctionMessage
        try {
          message = decodeAuctionMessage(body)
          if (message.t === 'follow') throw new InvalidMessageError('follow needs a stream of its own')
        } catch (err) {
          if (!(err instanceof InvalidMessageError)) throw err
          reply(id, this.#malformed(from, err))
          continue
        }
        this.stats.served++
        if (message.t === 'bid?') this.stats.bidRequests++
        let answered = false
        void handler(message, from, async r => { if (!answered) { answered = true; reply(id, r) } }, signal)
          .catch((err: Error) => { if (!answered) reply(id, { t: 'error', message: err.message.slice(0, 2048) }) })
      }
    } catch (err) {
      if (!this.#abort.signal.aborted && (err as Error).name !== 'UnexpectedEOFError') this.#c.logger.debug({ from, err: (err as Error).message }, 'auction session ended')
      stream.abort(err as Error)
    }
  }

  /** Send one request to `peer` on its session and read the reply (the message's bytes). */
  async request (peer: string, message: AuctionMessage, options: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<Uint8Array> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs), ...(options.signal === undefined ? [] : [options.signal])])
    const session = await this.#session(peer, signal)
    const id = session.nextId = (session.nextId + 1) >>> 0
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>()
    session.pending.set(id, { resolve, reject })
    const onAbort = (): void => { session.pending.delete(id); reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await session.lp.write(encodeSessionFrame(id, message), { signal })
      return await promise
    } finally {
      signal.removeEventListener('abort', onAbort)
      session.pending.delete(id)
    }
  }

  async #session (peer: string, signal: AbortSignal): Promise<Session> {
    let session = this.#sessions.get(peer)
    if (session !== undefined) {
      // Map order is the recency order: the first session is the least recently used.
      this.#sessions.delete(peer)
      this.#sessions.set(peer, session)
    } else {
      if (this.#sessions.size >= this.#maxSessions) {
        const [oldest, closing] = this.#sessions.entries().next().value as [string, Promise<Session>]
        this.#sessions.delete(oldest)
        void closing.then(s => { s.stream.abort(new Error('closed: too many auction sessions')) }, () => {})
      }
      const opening = this.#open(peer, signal)
      session = opening
      void opening.then(s => { s.entry = opening }, () => {})
      this.#sessions.set(peer, session)
      session.catch(() => { this.#sessions.delete(peer) })
    }
    return session
  }

  async #open (peer: string, signal: AbortSignal): Promise<Session> {
    const stream = await this.#c.mesh.dialProtocol(peerIdFromString(peer), AUCTION_SESSION_PROTOCOL, { signal })
    const session: Session = { stream, lp: lpStream(stream, { maxDataLength: AUCTION_MAX_BYTES }), pending: new Map(), nextId: 0 }
    this.stats.sessions++
    void (async () => {
      try {
        for (;;) {
          const { id, body } = splitSessionFrame((await session.lp.read({ signal: this.#abort.signal })).subarray())
          session.pending.get(id)?.resolve(body)
        }
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err))
        for (const p of session.pending.values()) p.reject(error)
        session.pending.clear()
        // Only this session's entry: an evicted session must not remove its successor.
        if (session.entry !== undefined && this.#sessions.get(peer) === session.entry) this.#sessions.delete(peer)
        stream.abort(error)
      }
    })()
    return session
  }

  /** Send one request on a stream of its own and pass each reply to `onReply` until it returns false or the peer closes. */
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
