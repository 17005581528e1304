// Generates the demo's synthetic portfolio and reads VaR off the summed
// scenario P&L that the job returns per slice.
import type { Position, Slice, SliceResult } from '../jobs/var.js'

export interface PortfolioInit {
  positions: number
  perSlice: number
  scenarios: number
  horizonDays?: number
  seed?: number
}

export function generateSlices (init: PortfolioInit): Slice[] {
  let state = (init.seed ?? 20261128) >>> 0
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
  const slices: Slice[] = []
  for (let start = 0; start < init.positions; start += init.perSlice) {
    const positions: Position[] = []
    for (let id = start; id < Math.min(start + init.perSlice, init.positions); id++) {
      positions.push({
        id,
        value: Math.round(10_000 + next() * 990_000),
        beta: Math.round((0.3 + next() * 1.2) * 100) / 100,
        vol: Math.round((0.1 + next() * 0.4) * 100) / 100
      })
    }
    slices.push({ slice: slices.length, scenarios: init.scenarios, horizonDays: init.horizonDays ?? 1, positions })
  }
  return slices
}

export interface VarSummary {
  positions: number
  scenarios: number
  exposure: number
  var99: number
  es99: number
}

/** Sums slice P&L per scenario and reads the 99% VaR and expected shortfall. */
export function summarise (slices: Slice[], results: SliceResult[]): VarSummary {
  const scenarios = slices[0]?.scenarios ?? 0
  const total = new Float64Array(scenarios)
  for (const r of results) {
    if (r.pnl.length !== scenarios) throw new Error(`slice ${r.slice} returned ${r.pnl.length} scenarios, expected ${scenarios}`)
    r.pnl.forEach((x, s) => { total[s] += x })
  }
  const losses = Array.from(total, (x) => -x).sort((a, b) => b - a)
  const tail = Math.max(1, Math.floor(scenarios * 0.01))
  return {
    positions: results.reduce((n, r) => n + r.positions, 0),
    scenarios,
    exposure: slices.reduce((n, s) => n + s.positions.reduce((m, p) => m + p.value, 0), 0),
    var99: losses[tail - 1],
    es99: losses.slice(0, tail).reduce((a, b) => a + b, 0) / tail
  }
}
