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
