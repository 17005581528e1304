// Lets V8 optimise the daemon's code once it first does work. The bin starts
// `idlegrid daemon` with TurboFan off (apps/cli/bin/idlegrid.js): optimising
// start-up code and the idle timers' code left about 8 MiB resident in a
// daemon that may never run a task (docs/footprint.md).
import { setFlagsFromString } from 'node:v8'
import { listen } from './listen.js'

/** Set by the bin when it started the daemon with TurboFan off. */
export const TURBOFAN_HELD = Symbol.for('idlegrid.daemon.turbofanHeld')

interface Target {
  addEventListener(type: string, handler: (evt: any) => void): void
  removeEventListener(type: string, handler: (evt: any) => void): void
}

/**
 * Turns TurboFan back on (V8's default tier limit) at the first job submitted,
 * task leased or task started here, or at once when `busy`; a no-op unless
 * the bin held it. Returns the call that detaches the listeners.
 */
export function optimiseOnFirstWork (submitter: Target, worker: Target, busy: boolean): () => void {
  if ((globalThis as Record<symbol, unknown>)[TURBOFAN_HELD] !== true) {
    return () => {}
  }
  let detach = (): void => {}
  const release = (): void => {
    (globalThis as Record<symbol, unknown>)[TURBOFAN_HELD] = false
    setFlagsFromString('--max-opt=999')
    detach()
  }
  if (busy) {
    release()
    return () => {}
  }
  const fromSubmitter = listen(submitter, { 'job:submitted': release, 'task:leased': release })
  const fromWorker = listen(worker, { 'task:start': release })
  detach = () => { fromSubmitter(); fromWorker() }
  return () => { detach() }
}
