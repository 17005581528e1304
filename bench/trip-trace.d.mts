// Types of trip-trace.mjs (a plain module, so that daemons can load it with `node --import`).

/** Writes this process's notes so far to its file in the trace folder. */
export function flushTrace (): void

/** One traced round trip: ms per segment, and the whole trip. */
export type TripSegments = Record<string, number>

/** Splits each traced round trip between `from` and `to` (epoch ms) into its segments. */
export function tripSegments (init: { dir: string, clientPid: number, submitterPid: number, volunteerPids: number[], from: number, to: number }): TripSegments[]
