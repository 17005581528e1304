// The job the worker's batch tests run in the real sandbox: returns its random
// draw and clock (to compare seeds), what it resumed from and where it sits in
// its batch and how many calls its context has seen; throws, spins or
// checkpoints or stays busy when its input says so.
interface Input { n: number, throws?: boolean, spin?: boolean, checkpoint?: boolean, busyMs?: number }
interface Ctx { taskId: string, record: number, records: number, resumeFrom?: unknown, checkpoint(state: unknown): void }

export default async function (input: Input, ctx: Ctx): Promise<unknown> {
  if (input.checkpoint === true) {
    ctx.checkpoint({ at: input.n })
  }
  if (input.throws === true) {
    throw new RangeError(`record ${input.n} was told to throw`)
  }
  if (input.spin === true) {
    while (true) { /* runs into the time limit */ }
  }
  if (input.busyMs != null) {
    // keeps the CPU busy this long (non-deterministic jobs only: a deterministic clock stands still)
    const end = Date.now() + input.busyMs
    while (Date.now() < end) { /* busy */ }
  }
  // calls made in this context so far: above 1 when tasks ran together in a group
  const g = globalThis as { calls?: number }
  g.calls = (g.calls ?? 0) + 1
  return { n: input.n, draw: Math.random(), now: Date.now(), resumed: ctx.resumeFrom ?? null, record: ctx.record, records: ctx.records, taskId: ctx.taskId, calls: g.calls }
}
