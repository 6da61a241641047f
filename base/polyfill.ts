/**
 * Node 20 lacks `Promise.withResolvers`, which libp2p 3 calls. This module must be imported
 * before any libp2p module loads: first import of every entry point and of the test setup.
 * It also replaces Node 20's `AbortSignal.any`, which leaks (base/abort-any.ts).
 */
import { abortAnyLeaks, abortSignalAny } from './abort-any.js'

if (abortAnyLeaks()) Object.defineProperty(AbortSignal, 'any', { configurable: true, writable: true, value: abortSignalAny })
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    },
  })
}
export {}
