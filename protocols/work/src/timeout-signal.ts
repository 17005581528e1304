// Shared timeout signals for the per-message deadlines of the work protocols:
// one AbortSignal per timeout length and second, instead of one per message.
import { setMaxListeners } from 'node:events'

/** How long one shared signal is handed out; a deadline may end this much later than asked. */
export const TIMEOUT_SIGNAL_GRANULARITY_MS = 1_000

const shared = new Map<number, { signal: AbortSignal, until: number }>()

/**
 * An AbortSignal that aborts with a TimeoutError between `ms` and `ms` +
 * TIMEOUT_SIGNAL_GRANULARITY_MS from now, shared by every caller asking for
 * the same `ms` within the same second.
 *
 * Why: `AbortSignal.timeout()` per message arms a timer per message, and a
 * signal that a library left a listener on stays alive until its timer fires,
 * then aborts with a fresh DOMException (a stack trace) and runs those
 * listeners. A volunteer leasing and reporting a task every ~50 ms paid ~8 %
 * of its daemon's CPU for the timers of messages sent 10 s before. Shared,
 * that is one timer a second per length, whatever the message rate.
 */
export function timeoutSignal (ms: number, now = Date.now()): AbortSignal {
  const entry = shared.get(ms)
  if (entry != null && now < entry.until && !entry.signal.aborted) {
    return entry.signal
  }
  const signal = AbortSignal.timeout(ms + TIMEOUT_SIGNAL_GRANULARITY_MS)
  // every request of a busy second listens on it for a while
  setMaxListeners(0, signal)
  shared.set(ms, { signal, until: now + TIMEOUT_SIGNAL_GRANULARITY_MS })
  return signal
}
