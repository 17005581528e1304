// Polling helpers for tests: wait for a condition with a deadline instead of
// sleeping a guessed amount of time.

export interface WaitForOptions {
  /** Give up after this long, ms. @default 10_000 */
  timeoutMs?: number
  /** Time between checks, ms. @default 25 */
  intervalMs?: number
  /** Says what was awaited in the timeout error. */
  message?: string
}

/** Resolves with the first truthy value `check` returns; rejects after the deadline. */
export async function waitFor<T> (check: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  let lastError: unknown
  while (true) {
    try {
      const value = await check()
      if (value != null && value !== false) {
        return value as NonNullable<T>
      }
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.message ?? 'condition'}`, { cause: lastError })
    }
    await new Promise(resolve => setTimeout(resolve, options.intervalMs ?? 25))
  }
}
