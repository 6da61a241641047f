/** Ctrl-C (SIGINT) and SIGTERM as an AbortSignal for a command that waits; `dispose` restores the default. */
export interface Interrupt { signal: AbortSignal, dispose: () => void }

export function onInterrupt (): Interrupt {
  const abort = new AbortController()
  const onSignal = (): void => { abort.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return {
    signal: abort.signal,
    dispose: () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}

/**
 * Calls `onGone` once the process that started this one has exited (its parent pid changes
 * when the orphan is re-parented). `npm start` forwards SIGTERM/SIGINT, but a launcher killed
 * with SIGKILL cannot: the node must not live on under PID 1 then.
 */
export function onParentExit (onGone: () => void, everyMs = 1000): () => void {
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    onGone()
  }, everyMs)
  timer.unref()
  return () => { clearInterval(timer) }
}
