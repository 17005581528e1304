// The job the jobs-* integration suites run in the real sandbox: squares a
// number, optionally in slow checkpointed steps, and reports where it resumed.
interface Input { n: number, steps?: number, stepMs?: number, fail?: boolean }
interface Ctx {
  attempt: number
  resumeFrom?: { step: number }
  progress(fraction: number): void
  checkpoint(state: unknown): void
}

export default async function (input: Input, ctx: Ctx): Promise<unknown> {
  const steps = input.steps ?? 0
  const resumedAt = ctx.resumeFrom?.step ?? null
  for (let step = resumedAt ?? 0; step < steps; step++) {
    const until = Date.now() + (input.stepMs ?? 0)
    while (Date.now() < until) { /* busy: the sandbox has no timers */ }
    ctx.checkpoint({ step: step + 1 })
    ctx.progress((step + 1) / steps)
  }
  if (input.fail === true) {
    throw new TypeError(`record ${input.n} was told to fail`)
  }
  return { n: input.n, square: input.n * input.n, resumedAt, attempt: ctx.attempt }
}
