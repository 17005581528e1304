// How progress reads: the bar, the piped line, numbers, ETA and the rate
// over a sliding window.
import { describe, expect, it } from 'vitest'
import { RateMeter, bar, barLine, count, eta, plainLine, rate } from '../src/progress.js'

describe('progress formatting', () => {
  it('draws the bar and the terminal line as the docs show them', () => {
    expect(barLine({ done: 4210, total: 10_000, volunteers: 3, rate: 1820, etaMs: 3_000 }))
      .toBe('[=====>      ] 4,210/10,000 tasks · 3 volunteers · 1,820 tasks/s · ETA 3s')
    expect(bar(0, 10, 4)).toBe('[>   ]')
    expect(bar(10, 10, 4)).toBe('[====]')
    expect(bar(0, 0, 4)).toBe('[====]')
  })

  it('leaves out what is not known yet, and says how many failed', () => {
    expect(barLine({ done: 0, total: 50, volunteers: 0 })).toBe('[>           ] 0/50 tasks · 0 volunteers')
    expect(barLine({ done: 50, total: 50, volunteers: 1, rate: 12.34, etaMs: 0, failed: 2 }))
      .toBe('[============] 50/50 tasks · 1 volunteer · 12.3 tasks/s · 2 failed')
  })

  it('writes plain lines with a percentage for pipes', () => {
    expect(plainLine({ done: 4210, total: 10_000, volunteers: 3, rate: 1820, etaMs: 125_000 }))
      .toBe('progress 42% 4,210/10,000 tasks · 3 volunteers · 1,820 tasks/s · ETA 2m 05s')
  })

  it('formats counts, rates and durations', () => {
    expect(count(1234567)).toBe('1,234,567')
    expect(rate(0.4)).toBe('0.40')
    expect(rate(99.99)).toBe('100.0')
    expect(eta(999)).toBe('1s')
    expect(eta(3_600_000 + 20 * 60_000)).toBe('1h 20m')
  })
})

describe('RateMeter', () => {
  it('needs two samples a little apart before it tells a rate', () => {
    const m = new RateMeter(5_000)
    m.add(0, 0)
    expect(m.rate()).toBeUndefined()
    m.add(100, 10)
    expect(m.rate()).toBeUndefined()
    m.add(1_000, 100)
    expect(m.rate()).toBe(100)
    expect(m.etaMs(100, 1_100)).toBe(10_000)
  })

  it('follows the recent rate, not the whole-run average', () => {
    const m = new RateMeter(2_000)
    m.add(0, 0)
    m.add(1_000, 1_000)
    for (let t = 2_000; t <= 10_000; t += 1_000) {
      m.add(t, 1_000 + (t - 1_000) / 100)
    }
    expect(m.rate()).toBeCloseTo(10, 5)
  })

  it('starts over when the count goes backwards', () => {
    const m = new RateMeter()
    m.add(0, 50)
    m.add(1_000, 60)
    m.add(2_000, 5)
    expect(m.rate()).toBeUndefined()
  })
})
