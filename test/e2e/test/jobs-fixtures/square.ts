// The e2e job: squares `n` with a helper from a local file, so submitting
// it proves that local imports are bundled.
import { square } from './square-helper.js'

interface Input { n: number, fail?: boolean }

export default async function (input: Input): Promise<{ n: number, square: number }> {
  if (input.fail === true) {
    throw new RangeError(`record ${input.n} was told to fail`)
  }
  return { n: input.n, square: square(input.n) }
}
