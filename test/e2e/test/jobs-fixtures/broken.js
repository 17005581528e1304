// An e2e job that does not bundle: it imports a file that does not exist.
import { missing } from './no-such-helper.js'

export default async function (input) {
  return missing(input)
}
