// Monte Carlo Value-at-Risk for one slice of a portfolio: the IdleGrid job
// that the demo submits. Runs inside the sandbox: no Node APIs, only `input`
// and `ctx`. One record = one slice of positions; the result is the slice's
// profit and loss in every scenario, so the submitter can sum slices into the
// portfolio's loss distribution and read VaR from its tail.

export interface Position {
  id: number
  /** Market value in USD. */
  value: number
  /** Sensitivity to the common market factor. */
  beta: number
  /** Annualised idiosyncratic volatility. */
  vol: number
}

export interface Slice {
  slice: number
  scenarios: number
  horizonDays: number
  positions: Position[]
}

export interface SliceResult {
  slice: number
  positions: number
  /** Slice P&L per scenario, USD, rounded to cents. */
  pnl: number[]
}

/** Mulberry32: small, fast and the same on every machine. */
function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function normal (next: () => number): number {
  const u = Math.max(next(), 1e-12)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next())
}

interface Ctx {
  progress: (fraction: number) => void
}

export default async function valueAtRisk (input: Slice, ctx: Ctx): Promise<SliceResult> {
  const { scenarios, horizonDays, positions } = input
  const scale = Math.sqrt(horizonDays / 252)
  const marketVol = 0.18 * scale
  // The market factor is drawn from one fixed seed, so every slice sees the
  // same market scenarios and slices add up to a coherent portfolio.
  const market = rng(0x5EED)
  const factor = new Float64Array(scenarios)
  for (let s = 0; s < scenarios; s++) factor[s] = normal(market) * marketVol

  const pnl = new Float64Array(scenarios)
  positions.forEach((p, i) => {
    const own = rng(p.id * 2654435761)
    const idio = p.vol * scale
    for (let s = 0; s < scenarios; s++) {
      pnl[s] += p.value * (p.beta * factor[s] + idio * normal(own))
    }
    if (i % 25 === 24) ctx.progress((i + 1) / positions.length)
  })
  return {
    slice: input.slice,
    positions: positions.length,
    pnl: Array.from(pnl, (x) => Math.round(x * 100) / 100)
  }
}
