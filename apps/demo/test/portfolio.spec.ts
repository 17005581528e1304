import { describe, expect, it } from 'vitest'
import valueAtRisk from '../jobs/var.js'
import { generateSlices, summarise } from '../src/portfolio.js'

describe('demo portfolio', () => {
  it('splits positions into slices and keeps every position once', () => {
    const slices = generateSlices({ positions: 1050, perSlice: 100, scenarios: 10 })
    expect(slices).toHaveLength(11)
    const ids = slices.flatMap((s) => s.positions.map((p) => p.id))
    expect(new Set(ids).size).toBe(1050)
    expect(slices[10].positions).toHaveLength(50)
  })

  it('reads VaR and expected shortfall off the summed tail', () => {
    const slices = generateSlices({ positions: 2, perSlice: 1, scenarios: 200 })
    // Slice 0 loses s dollars in scenario s, slice 1 loses nothing: the two
    // worst of 200 scenarios (1%) are 199 and 198.
    const results = [
      { slice: 0, positions: 1, pnl: Array.from({ length: 200 }, (_, s) => -s) },
      { slice: 1, positions: 1, pnl: Array.from({ length: 200 }, () => 0) }
    ]
    const summary = summarise(slices, results)
    expect(summary.var99).toBe(198)
    expect(summary.es99).toBe(198.5)
    expect(summary.positions).toBe(2)
  })

  it('gives the same P&L for the same slice, whoever runs it', async () => {
    const [slice] = generateSlices({ positions: 30, perSlice: 30, scenarios: 50 })
    const ctx = { progress: () => {} }
    const a = await valueAtRisk(slice, ctx)
    const b = await valueAtRisk(slice, ctx)
    expect(a).toEqual(b)
    expect(a.pnl).toHaveLength(50)
    expect(a.pnl.some((x) => x !== 0)).toBe(true)
  })

  it('refuses a result with the wrong number of scenarios', () => {
    const slices = generateSlices({ positions: 1, perSlice: 1, scenarios: 10 })
    expect(() => summarise(slices, [{ slice: 0, positions: 1, pnl: [1] }])).toThrow(/slice 0 returned 1 scenarios/)
  })
})
