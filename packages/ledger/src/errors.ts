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
  | 'wrong-issuer'
  | 'self-issued'

/**
 * A receipt was refused and nothing was stored. `name` stays
 * 'ReceiptRejectedError' (callers test `err.name`); `reason` says which check failed.
 */
export class ReceiptRejected extends ReceiptRejectedError {
  static override name = 'ReceiptRejectedError'
  readonly reason: ReceiptRejectReason
  /** The receipt's hash, when its bytes decoded far enough to have one. */
  readonly hash?: string

  constructor (reason: ReceiptRejectReason, message: string, options: { cause?: unknown, hash?: string } = {}) {
    super(message, { retryable: false, cause: options.cause })
    this.name = 'ReceiptRejectedError'
    this.reason = reason
    if (options.hash != null) {
      this.hash = options.hash
    }
  }
}
