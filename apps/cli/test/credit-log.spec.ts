// The daemon's credit lines as a submitter: one line per ended job once its
// results are paid (or at a deadline, with what is still owed), looked at
// with one timer for all ended jobs and one credit query per look.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { logCreditEvents } from '../src/daemon/credit-routes.js'
import type { Submitter } from '@idlegrid/jobs'
import type { Worker } from '@idlegrid/worker'

type Credit = { owed: number, receipts: number, creditedMs: number, flagged: number }

function harness (): { send: (type: string, detail: object) => void, credit: Map<string, Credit>, looks: string[], lines: string[], stop: () => void } {
  // the log only listens to events and reads credit(); a plain event target sends them here
  const credit = new Map<string, Credit>()
  const looks: string[] = []
  const submitter = Object.assign(new EventTarget(), {
    credit (id: string): Credit {
      looks.push(id)
      return credit.get(id) ?? { owed: 0, receipts: 0, creditedMs: 0, flagged: 0 }
    }
  })
  const lines: string[] = []
  const stop = logCreditEvents(submitter as unknown as Submitter, new EventTarget() as unknown as Worker, line => { lines.push(line) })
  const send = (type: string, detail: object): void => { submitter.dispatchEvent(new CustomEvent(type, { detail })) }
  return { send, credit, looks, lines, stop }
}

describe('the daemon log: credit lines of ended jobs', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('looks at every job that ended once, after the next credit round, with one timer for all of them', () => {
    const h = harness()
    for (let i = 0; i < 100; i++) {
      h.credit.set(`j${i}`, { owed: 0, receipts: 1, creditedMs: 2, flagged: 0 })
      h.send('job:ended', { id: `j${i}`, state: 'done', volunteers: 1 })
    }
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(599)
    expect(h.lines).toEqual([])
    vi.advanceTimersByTime(1)
    expect(h.lines).toHaveLength(100)
    expect(h.lines[0]).toBe('job j0 credit: 1 result(s) paid for 0.002 credits to 1 volunteer(s)')
    expect(h.looks).toHaveLength(100)
    // nothing left to look at: no timer keeps running
    expect(vi.getTimerCount()).toBe(0)
    h.stop()
  })

  it('waits for receipts still owed, looks again when one is issued, and says what is still owed at the deadline', () => {
    const h = harness()
    h.credit.set('paid-later', { owed: 2, receipts: 0, creditedMs: 0, flagged: 0 })
    h.credit.set('never-paid', { owed: 1, receipts: 3, creditedMs: 3000, flagged: 1 })
    h.send('job:ended', { id: 'paid-later', state: 'done', volunteers: 2 })
    h.send('job:ended', { id: 'never-paid', state: 'done', volunteers: 1 })
    vi.advanceTimersByTime(600)
    expect(h.lines).toEqual([])

    h.credit.set('paid-later', { owed: 0, receipts: 2, creditedMs: 1500, flagged: 0 })
    h.send('receipt:issued', { jobId: 'paid-later' })
    h.send('receipt:issued', { jobId: 'paid-later' })
    vi.advanceTimersByTime(50)
    expect(h.lines).toEqual(['job paid-later credit: 2 result(s) paid for 1.500 credits to 2 volunteer(s)'])
    expect(h.looks.filter(id => id === 'paid-later')).toHaveLength(2)

    vi.advanceTimersByTime(10_000)
    expect(h.lines.at(-1)).toBe('job never-paid credit: 3 result(s) paid for 3.000 credits to 1 volunteer(s), 1 claim(s) capped or refused, 1 still owed (issued as soon as possible)')
    expect(h.looks.filter(id => id === 'never-paid')).toHaveLength(2)
    expect(vi.getTimerCount()).toBe(0)
    h.stop()
  })
})
