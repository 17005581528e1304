// Small helpers the in-process benches share: medians of their runs and the
// machine's load average as they print it. Not a benchmark itself.
import { loadavg } from 'node:os'

export const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)

/** The middle value (the upper of the two middle ones for an even count). */
export const median = (xs: number[]): number => sorted(xs)[Math.floor(xs.length / 2)]

/** The load average over 1, 5 and 15 minutes, one decimal each. */
export const load = (): string => loadavg().map(x => x.toFixed(1)).join(' ')
