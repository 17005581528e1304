// The swarm-trust e2e job: doubles `n`.
export default async function (input: { n: number }): Promise<{ n: number, double: number }> {
  return { n: input.n, double: input.n * 2 }
}
