// Errors of @idlegrid/node that are not shared through @idlegrid/interface.
import { IdleGridError } from '@idlegrid/interface'

/** A peer did not answer a capacity query in time or answered nonsense. */
export class CapacityQueryError extends IdleGridError {
  static override name = 'CapacityQueryError'
}
