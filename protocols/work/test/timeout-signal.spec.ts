import { describe, expect, it } from 'vitest'
import { TIMEOUT_SIGNAL_GRANULARITY_MS, timeoutSignal } from '../src/index.js'

describe('timeoutSignal', () => {
  it('hands out one signal per length within a second, and a new one after', () => {
    const now = Date.now()
    const a = timeoutSignal(60_000, now)
    expect(timeoutSignal(60_000, now + TIMEOUT_SIGNAL_GRANULARITY_MS - 1)).toBe(a)
    expect(timeoutSignal(30_000, now)).not.toBe(a)
    const b = timeoutSignal(60_000, now + TIMEOUT_SIGNAL_GRANULARITY_MS)
    expect(b).not.toBe(a)
    expect(a.aborted || b.aborted).toBe(false)
  })

  it('aborts with a TimeoutError no sooner than asked, and is not handed out once aborted', async () => {
    const start = performance.now()
    const signal = timeoutSignal(20)
    const reason = await new Promise<unknown>(resolve => { signal.addEventListener('abort', () => { resolve(signal.reason) }, { once: true }) })
    expect(performance.now() - start).toBeGreaterThanOrEqual(19)
    expect((reason as Error).name).toBe('TimeoutError')
    expect(timeoutSignal(20)).not.toBe(signal)
  })
})
