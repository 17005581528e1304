// Checks for flag values of client commands (daemon flags go through config.ts).
import { UsageError } from './errors.js'

/** An integer flag in [min, max], or undefined when not given. */
export function integerFlag (name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) {
    return undefined
  }
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got '${String(value)}'`)
  }
  return n
}

/** A duration flag in seconds (fractions allowed), returned in ms. */
export function secondsFlag (name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) {
    return undefined
  }
  const n = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number of seconds between ${min} and ${max}, got '${String(value)}'`)
  }
  return Math.round(n * 1000)
}
