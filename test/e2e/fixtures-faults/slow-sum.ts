// The job of the fault suites: sums (n + 1) * (step + 1) over `steps` steps
// of `stepMs` busy time each, checkpointing the running sum after every
// step, and returns where it resumed and which attempt finished it, so a
// test can tell a resumed task from one that started over.
interface Input { n: number, steps: number, stepMs: number }
interface State { step: number, sum: number }
interface Ctx {
  attempt: number
  resumeFrom?: State
  progress(fraction: number): void
  checkpoint(state: State): void
}

export interface Output { n: number, sum: number, resumedFrom: number, attempt: number }

export default async function (input: Input, ctx: Ctx): Promise<Output> {
  const from = ctx.resumeFrom ?? { step: 0, sum: 0 }
  let sum = from.sum
  for (let step = from.step; step < input.steps; step++) {
    const until = performance.now() + input.stepMs
    while (performance.now() < until) { /* busy: the sandbox has no timers */ }
    sum += (input.n + 1) * (step + 1)
    // The checkpoint goes first: progress seen by the submitter implies its checkpoint was sent.
    ctx.checkpoint({ step: step + 1, sum })
    ctx.progress((step + 1) / input.steps)
  }
  return { n: input.n, sum, resumedFrom: from.step, attempt: ctx.attempt }
}
