// The credits suites' job: deterministic, and busy for a few milliseconds per
// record so every receipt credits some CPU time (Date is frozen in
// deterministic mode, so it counts iterations, not time).
interface Input { n: number, spin?: number }

export default async function (input: Input): Promise<{ n: number, square: number, x: number }> {
  let x = 0
  for (let i = 0; i < (input.spin ?? 400_000); i++) x = (x + i) % 9973
  return { n: input.n, square: input.n * input.n, x }
}
