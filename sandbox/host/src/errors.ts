// Named errors of the sandbox host that callers see as thrown exceptions.
// Errors of a task attempt are not thrown: they end its event stream.
import { IdleGridError } from '@idlegrid/interface'

/** run() was called on a pool that is stopping or stopped. */
export class SandboxStoppedError extends IdleGridError {
  static override name = 'SandboxStoppedError'
}
