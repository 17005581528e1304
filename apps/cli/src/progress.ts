// How a running job's progress reads: the bar on a terminal, plain lines
// when piped, the rate over a sliding window and the ETA it implies.

/** What one progress line shows. */
export interface ProgressView {
  /** Tasks finished (done or failed for good). */
  done: number
  total: number
  /** Distinct volunteers holding a lease now (or, at the end, that did work). */
  volunteers: number
  /** Tasks per second over the recent window; undefined until it can be told. */
  rate?: number
  /** Milliseconds left at that rate. */
  etaMs?: number
  /** Records that failed for good so far. */
  failed?: number
}

/** 4210 -> "4,210". */
export function count (n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** `[=====>      ]` with `width` cells inside the brackets. */
export function bar (done: number, total: number, width = 12): string {
  const fraction = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total))
  const filled = Math.floor(fraction * width)
  if (filled >= width) {
    return `[${'='.repeat(width)}]`
  }
  return `[${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}]`
}

/** A short duration for an ETA: "3s", "2m 05s", "1h 20m". */
export function eta (ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  return `${h}h ${String(m % 60).padStart(2, '0')}m`
}

/** Tasks per second, readable: "1,820", "12.5", "0.40". */
export function rate (perSecond: number): string {
  if (perSecond >= 100) return count(perSecond)
  if (perSecond >= 10) return perSecond.toFixed(1)
  return perSecond.toFixed(2)
}

function parts (p: ProgressView): string[] {
  const out = [`${count(p.done)}/${count(p.total)} tasks`]
  out.push(p.volunteers === 1 ? '1 volunteer' : `${count(p.volunteers)} volunteers`)
  if (p.rate != null && p.rate > 0) {
    out.push(`${rate(p.rate)} tasks/s`)
  }
  if (p.etaMs != null && p.done < p.total) {
    out.push(`ETA ${eta(p.etaMs)}`)
  }
  if (p.failed != null && p.failed > 0) {
    out.push(`${count(p.failed)} failed`)
  }
  return out
}

/** The terminal line: `[=====>      ] 4,210/10,000 tasks · 3 volunteers · 1,820 tasks/s · ETA 3s`. */
export function barLine (p: ProgressView, width = 12): string {
  return `${bar(p.done, p.total, width)} ${parts(p).join(' · ')}`
}

/** The piped line: `progress 42% 4,210/10,000 tasks · 3 volunteers · 1,820 tasks/s · ETA 3s`. */
export function plainLine (p: ProgressView): string {
  const percent = p.total <= 0 ? 100 : Math.floor((p.done / p.total) * 100)
  return `progress ${percent}% ${parts(p).join(' · ')}`
}

/**
 * Rate over a sliding window of (time, done) samples. The window keeps the
 * rate current when volunteers come and go, where a whole-job average would
 * lag.
 */
export class RateMeter {
  readonly #windowMs: number
  readonly #samples: Array<{ at: number, done: number }> = []

  constructor (windowMs = 5_000) {
    this.#windowMs = windowMs
  }

  add (at: number, done: number): void {
    const last = this.#samples.at(-1)
    if (last != null && done < last.done) {
      this.#samples.length = 0
    }
    this.#samples.push({ at, done })
    while (this.#samples.length > 2 && at - this.#samples[1].at >= this.#windowMs) {
      this.#samples.shift()
    }
  }

  /** Tasks per second, or undefined with too little to go on. */
  rate (): number | undefined {
    const first = this.#samples[0]
    const last = this.#samples.at(-1)
    if (first == null || last == null || last.at - first.at < 250 || last.done === first.done) {
      return undefined
    }
    return ((last.done - first.done) * 1000) / (last.at - first.at)
  }

  /** Milliseconds until `total` at the current rate. */
  etaMs (done: number, total: number): number | undefined {
    const r = this.rate()
    return r == null || r <= 0 ? undefined : ((total - done) / r) * 1000
  }
}
