// Named errors of the ledger. Rejections reuse the shared ReceiptRejectedError
// name and add a machine-readable reason.
import { ReceiptRejectedError } from '@idlegrid/interface'

/** Why a receipt was refused; stable strings a caller may switch on. */
export type ReceiptRejectReason =
  | 'oversize'
  | 'garbled'
  | 'non-canonical'
  | 'bad-field'
  | 'bad-signature'
  | 'wrong-worker'
  | 'self-issued'

/**
 * A receipt was refused and nothing was stored. `name` stays
 * 'ReceiptRejectedError' (callers test `err.name`); `reason` says which check failed.
 */
export class ReceiptRejected extends ReceiptRejectedError {
  static override name = 'ReceiptRejectedError'
  readonly reason: ReceiptRejectReason

  constructor (reason: ReceiptRejectReason, message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause })
    this.name = 'ReceiptRejectedError'
    this.reason = reason
  }
}
