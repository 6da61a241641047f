/**
 * The broker's socket side: a ZeroMQ ROUTER that admits workers and moves frames. A peer
 * becomes a worker only by a HELLO with the right protocol version and token (compared in
 * constant time); until then nothing is dispatched to it and its other messages are ignored.
 * Every frame is schema-checked; a malformed one is counted, logged (rate-limited) and
 * dropped, never interpreted. A worker silent for `heartbeatTimeoutMs` is declared lost.
 * Dispatch decisions and task bookkeeping are the pool's (see pool.ts); this module reports
 * what workers say through BrokerEvents.
 */
import { rm } from 'node:fs/promises'
import { Router } from 'zeromq'
import type { Logger } from '../base/index.js'
import {
  decodeWorkerFrame, encodeWorkerMessage, WORKER_PROTOCOL_VERSION,
  type BrokerMessage, type WorkerByeReason, type WorkerHello, type WorkerKind, type WorkerLog, type WorkerMessage, type WorkerProgress, type WorkerResult,
} from '../protocols/index.js'
import { FrameSender, MAX_FRAMES_PER_MESSAGE } from './frame-sender.js'
import { tokensMatch } from './token.js'

export interface WorkerSession {
  readonly id: string
  readonly kind: WorkerKind
  readonly pid: number
  /** Started by this pool (and killed by it when lost); false for workers attached by hand. */
  readonly spawned: boolean
  readonly joinedAt: number
  ready: boolean
  slots: number
  lastSeen: number
  malformedFrames: number
}

/** Why a worker was declared lost. */
export type LossReason = 'heartbeat' | 'exited' | 'unreachable' | 'cancel-ignored' | 'shutdown'

export interface BrokerEvents {
  ready: (session: WorkerSession) => void
  result: (session: WorkerSession, message: WorkerResult) => void
  progress: (session: WorkerSession, message: WorkerProgress) => void
  log: (session: WorkerSession, message: WorkerLog) => void
  lost: (session: WorkerSession, reason: LossReason) => void
}

export interface BrokerInit {
  endpoint: string
  token: string
  logger: Logger
  heartbeatIntervalMs: number
  heartbeatTimeoutMs: number
  maxMessageBytes: number
  /** True when `workerId` is a process this pool spawned, of this kind and pid, not yet joined. */
  claimSpawned: (workerId: string, kind: WorkerKind, pid: number) => boolean
  events: BrokerEvents
}

export interface BrokerCounters { malformedFrames: number, unauthorized: number, unknownPeerMessages: number }

const LOG_BUDGET_PER_SECOND = 10

export class Broker {
  readonly #init: BrokerInit
  readonly #log: Logger
  readonly #socket: Router
  readonly #sender: FrameSender
  readonly #byKey = new Map<string, { routingId: Buffer, session: WorkerSession }>()
  readonly #keyById = new Map<string, string>()
  readonly counters: BrokerCounters = { malformedFrames: 0, unauthorized: 0, unknownPeerMessages: 0 }
  #externalCount = 0
  #checker: NodeJS.Timeout | undefined
  #lastCheck = 0
  #logBudget = LOG_BUDGET_PER_SECOND
  #budgetRefilledAt = 0
  #loop: Promise<void> | undefined
  #endpoint = ''

  constructor (init: BrokerInit) {
    this.#init = init
    this.#log = init.logger
    this.#socket = new Router({ mandatory: true, linger: 0, maxMessageSize: init.maxMessageBytes, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000 })
    this.#sender = new FrameSender(this.#socket, (route, err) => this.#sendFailed(route, err))
  }

  get endpoint (): string { return this.#endpoint }

  /** Binds and starts receiving; resolves with the bound endpoint (a tcp port 0 resolved). */
  async start (): Promise<string> {
    await this.#socket.bind(this.#init.endpoint)
    this.#endpoint = this.#socket.lastEndpoint ?? this.#init.endpoint
    this.#loop = this.#receiveLoop()
    const every = Math.max(10, Math.min(this.#init.heartbeatIntervalMs, Math.floor(this.#init.heartbeatTimeoutMs / 4)))
    this.#lastCheck = Date.now()
    this.#checker = setInterval(() => this.#checkHeartbeats(every), every)
    this.#checker.unref()
    return this.#endpoint
  }

  sessions (): WorkerSession[] {
    return [...this.#byKey.values()].map(entry => entry.session)
  }

  session (workerId: string): WorkerSession | undefined {
    const key = this.#keyById.get(workerId)
    return key === undefined ? undefined : this.#byKey.get(key)?.session
  }

  /** Sends an already encoded broker message (a task frame is encoded once, at submit). */
  sendFrame (workerId: string, frame: string): boolean {
    const key = this.#keyById.get(workerId)
    const entry = key === undefined ? undefined : this.#byKey.get(key)
    if (entry === undefined) return false
    this.#sender.send(entry.routingId, frame)
    return true
  }

  send (workerId: string, message: BrokerMessage): boolean {
    return this.sendFrame(workerId, encodeWorkerMessage(message))
  }

  /** Forgets the worker and reports it lost; `bye` tells a live one so (it will join again). */
  evict (workerId: string, reason: LossReason, bye?: WorkerByeReason): void {
    const key = this.#keyById.get(workerId)
    const entry = key === undefined ? undefined : this.#byKey.get(key)
    if (key === undefined || entry === undefined) return
    if (bye !== undefined) this.#sender.send(entry.routingId, encodeWorkerMessage({ t: 'bye', reason: bye }))
    this.#byKey.delete(key)
    this.#keyById.delete(workerId)
    this.#init.events.lost(entry.session, reason)
  }

  async stop (): Promise<void> {
    clearInterval(this.#checker)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#sender.flushed(), new Promise(resolve => { timer = setTimeout(resolve, 500) })])
    clearTimeout(timer)
    this.#sender.clear()
    if (!this.#socket.closed) this.#socket.close()
    await this.#loop
    // ZeroMQ leaves a bound ipc socket's file behind; a clean stop leaves the data dir clean.
    if (this.#endpoint.startsWith('ipc://')) await rm(this.#endpoint.slice('ipc://'.length), { force: true })
  }

  async #receiveLoop (): Promise<void> {
    try {
      for await (const frames of this.#socket) this.#receive(frames)
    } catch (err) {
      if (!this.#socket.closed) this.#log.error({ err }, 'worker broker receive loop failed')
    }
  }

  #receive (frames: Buffer[]): void {
    const routingId = frames[0]
    const key = routingId.toString('latin1')
    if (frames.length < 2 || frames.length > MAX_FRAMES_PER_MESSAGE + 1) {
      return this.#malformed(key, `expected 1 to ${MAX_FRAMES_PER_MESSAGE} frames after the routing id, got ${frames.length - 1}`)
    }
    for (let i = 1; i < frames.length; i++) this.#receiveFrame(routingId, key, frames[i])
  }

  #malformed (key: string, reason: string): void {
    const session = this.#byKey.get(key)?.session
    this.counters.malformedFrames++
    if (session !== undefined) session.malformedFrames++
    this.#warnLimited({ worker: session?.id ?? null, reason }, 'rejected a malformed frame from a worker')
  }

  #receiveFrame (routingId: Buffer, key: string, frame: Buffer): void {
    let messages
    try {
      messages = decodeWorkerFrame(frame, this.#init.maxMessageBytes)
    } catch (err) {
      return this.#malformed(key, (err as Error).message)
    }
    for (const message of messages) this.#receiveMessage(routingId, key, message)
  }

  #receiveMessage (routingId: Buffer, key: string, message: WorkerMessage): void {
    if (message.t === 'hello') return this.#hello(routingId, key, message)
    const entry = this.#byKey.get(key)
    if (entry === undefined) {
      this.counters.unknownPeerMessages++
      // A worker this broker does not know (it restarted, or evicted the worker): join again.
      this.#sender.send(routingId, encodeWorkerMessage({ t: 'bye', reason: 'unknown-worker' }))
      return
    }
    const session = entry.session
    session.lastSeen = Date.now()
    switch (message.t) {
      case 'ready':
        session.ready = true
        session.slots = message.slots
        return this.#init.events.ready(session)
      case 'result': return this.#init.events.result(session, message)
      case 'progress': return this.#init.events.progress(session, message)
      case 'log': return this.#init.events.log(session, message)
      case 'heartbeat': return
      default: return message satisfies never
    }
  }

  #hello (routingId: Buffer, key: string, hello: WorkerHello): void {
    const bye = (reason: WorkerByeReason): void => this.#sender.send(routingId, encodeWorkerMessage({ t: 'bye', reason }))
    if (!tokensMatch(hello.token, this.#init.token)) {
      this.counters.unauthorized++
      this.#warnLimited({ pid: hello.pid, kind: hello.kind }, 'refused a worker with a wrong token')
      return bye('unauthorized')
    }
    if (hello.v !== WORKER_PROTOCOL_VERSION) {
      this.#warnLimited({ pid: hello.pid, v: hello.v }, 'refused a worker speaking another protocol version')
      return bye('version')
    }
    const existing = this.#byKey.get(key)
    if (existing !== undefined) {
      // A repeated HELLO (the WELCOME crossed it): welcome again, change nothing.
      existing.session.lastSeen = Date.now()
      return this.#welcome(routingId, existing.session.id)
    }
    const spawned = hello.workerId !== undefined && this.#init.claimSpawned(hello.workerId, hello.kind, hello.pid)
    const id = spawned ? hello.workerId as string : `external-${++this.#externalCount}`
    const now = Date.now()
    const session: WorkerSession = { id, kind: hello.kind, pid: hello.pid, spawned, joinedAt: now, ready: false, slots: 0, lastSeen: now, malformedFrames: 0 }
    this.#byKey.set(key, { routingId, session })
    this.#keyById.set(id, key)
    this.#log.info({ worker: id, kind: hello.kind, pid: hello.pid, spawned, handlers: hello.handlers }, 'worker joined')
    this.#welcome(routingId, id)
  }

  #welcome (routingId: Buffer, workerId: string): void {
    this.#sender.send(routingId, encodeWorkerMessage({ t: 'welcome', workerId, heartbeatIntervalMs: this.#init.heartbeatIntervalMs }))
  }

  #checkHeartbeats (every: number): void {
    const now = Date.now()
    if (now - this.#budgetRefilledAt >= 1000) {
      this.#logBudget = LOG_BUDGET_PER_SECOND
      this.#budgetRefilledAt = now
    }
    // If this process itself stalled, workers' heartbeats may be waiting unread: extend their deadlines.
    const stall = now - this.#lastCheck - every
    this.#lastCheck = now
    for (const [, { session }] of [...this.#byKey]) {
      if (stall > every) session.lastSeen += stall
      if (now - session.lastSeen > this.#init.heartbeatTimeoutMs) this.evict(session.id, 'heartbeat', 'evicted')
    }
  }

  #sendFailed (route: Buffer | null, err: unknown): void {
    const entry = route === null ? undefined : this.#byKey.get(route.toString('latin1'))
    this.#log.debug({ err, worker: entry?.session.id }, 'send to a worker failed')
    if (entry !== undefined) this.evict(entry.session.id, 'unreachable')
  }

  #warnLimited (fields: Record<string, unknown>, message: string): void {
    if (this.#logBudget <= 0) return
    this.#logBudget--
    this.#log.warn(fields, message)
  }
}
