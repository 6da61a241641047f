/**
 * `AbortSignal.any` without Node 20's leak. Node 20 (20.20.2 measured) keeps, in every source
 * signal, a WeakRef to each signal `any()` ever derived from it, and drops them only when
 * that source aborts: a long-lived signal (a service's stop signal, combined with a timeout
 * per request) gains ~56 bytes per call for good. A soak showed it as the only steady growth
 * of a node's heap (~1,000 WeakRefs every 4 minutes in three such signals). Node 22 cleans
 * them up; on Node 20 this replacement is installed by base/polyfill.ts.
 *
 * Same contract: the result aborts, with the first source's reason, when any source aborts
 * (at once if one already has). Each source has one listener of ours and a set of the links
 * to its results; a link reaches its result only through a WeakRef and leaves every source's
 * set when the result aborts or is garbage collected (FinalizationRegistry): O(1) each, and
 * sources hold nothing for good. As in Node 22, a result that has abort listeners (added by
 * its `addEventListener`) is kept alive until it aborts or loses them: someone still waits on
 * it, though perhaps holding only the listener. (`onabort` does not count.)
 */
import { getEventListeners } from 'node:events'

interface Link { result: WeakRef<AbortController>, sources: AbortSignal[] }

/** Each source's links to the results derived from it (the set goes with the source). */
const linksOf = new WeakMap<AbortSignal, Set<Link>>()
const unlink = (link: Link): void => { for (const s of link.sources) linksOf.get(s)?.delete(link) }
const collected = new FinalizationRegistry<Link>(unlink)
/** The result keeps its controller alive (the sources reach it only weakly). */
const owner = Symbol('gryphgen.abortAnyController')
/** Results with abort listeners, not aborted yet: someone waits on them. */
const waitedOn = new Set<AbortSignal>()

const listening: PropertyDescriptorMap = {
  addEventListener: {
    value: function (this: AbortSignal, ...args: Parameters<AbortSignal['addEventListener']>) {
      EventTarget.prototype.addEventListener.apply(this, args)
      if (args[0] === 'abort' && !this.aborted) waitedOn.add(this)
    },
  },
  removeEventListener: {
    value: function (this: AbortSignal, ...args: Parameters<AbortSignal['removeEventListener']>) {
      EventTarget.prototype.removeEventListener.apply(this, args)
      if (args[0] === 'abort' && getEventListeners(this, 'abort').length === 0) waitedOn.delete(this)
    },
  },
}

function linksFrom (source: AbortSignal): Set<Link> {
  let links = linksOf.get(source)
  if (links === undefined) {
    const set = links = new Set<Link>()
    linksOf.set(source, set)
    // EventTarget's own method: a source that is itself a result of ours (nested `any`) must
    // not count this listener as someone waiting on it, or it would be kept alive for good.
    EventTarget.prototype.addEventListener.call(source, 'abort', () => {
      for (const link of [...set]) {
        unlink(link)
        const controller = link.result.deref()
        if (controller === undefined) continue
        collected.unregister(controller.signal)
        controller.abort(source.reason)
        waitedOn.delete(controller.signal)
      }
    }, { once: true })
  }
  return links
}

export function abortSignalAny (signals: Iterable<AbortSignal>): AbortSignal {
  const sources = [...signals]
  const controller = new AbortController()
  const signal = controller.signal
  const aborted = sources.find(s => s.aborted)
  if (aborted !== undefined) { controller.abort(aborted.reason); return signal }
  const link: Link = { result: new WeakRef(controller), sources }
  Object.defineProperty(signal, owner, { value: controller })
  Object.defineProperties(signal, listening)
  for (const s of sources) linksFrom(s).add(link)
  collected.register(signal, link, signal)
  return signal
}

/** Node before 22 leaks in `AbortSignal.any` (above). */
export function abortAnyLeaks (version = process.versions.node): boolean {
  return Number(version.split('.')[0]) < 22
}
