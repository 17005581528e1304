// Errors of the control API and the map between named errors and HTTP
// statuses, used by the server to answer and by the client to rebuild them.
import {
  AddressInUseError, BundleRejectedError, ConfigError, DaemonNotRunningError, DaemonRunningError,
  IdentityError, IdleGridError, InvalidInputError, InvalidMultiaddrError, NotFoundError,
  ProtocolError, ReceiptRejectedError, UnauthorizedError
} from '@idlegrid/interface'

/** The request body is larger than the server accepts. */
export class PayloadTooLargeError extends IdleGridError {
  static override name = 'PayloadTooLargeError'
}

/** The control API answered with an error whose name the client does not know. */
export class ControlApiError extends IdleGridError {
  static override name = 'ControlApiError'
  /** HTTP status of the answer. */
  readonly status: number
  /** The `name` the server reported. */
  readonly remoteName: string

  constructor (message: string, options: { status: number, remoteName: string, retryable?: boolean }) {
    super(message, { retryable: options.retryable })
    this.status = options.status
    this.remoteName = options.remoteName
  }
}

/** The shape of every error answer: `{ error: { name, message } }`. */
export interface ErrorBody {
  error: { name: string, message: string, retryable?: boolean }
}

type ErrorClass = new (message: string, options?: { retryable?: boolean }) => IdleGridError

/**
 * Errors the client rebuilds by name; anything else becomes a ControlApiError,
 * so a server can never make the client construct an arbitrary class.
 */
const KNOWN_ERRORS: Record<string, ErrorClass> = {
  ConfigError,
  IdentityError,
  DaemonRunningError,
  DaemonNotRunningError,
  AddressInUseError,
  InvalidMultiaddrError,
  UnauthorizedError,
  ProtocolError,
  NotFoundError,
  InvalidInputError,
  BundleRejectedError,
  ReceiptRejectedError,
  PayloadTooLargeError
}

const STATUS_BY_NAME: Record<string, number> = {
  InvalidInputError: 400,
  ConfigError: 400,
  InvalidMultiaddrError: 400,
  UnauthorizedError: 401,
  NotFoundError: 404,
  DaemonRunningError: 409,
  PayloadTooLargeError: 413
}

/** The HTTP status a thrown error is answered with; unknown errors are 500. */
export function statusForError (err: unknown): number {
  const status = (err as { status?: unknown } | undefined)?.status
  if (typeof status === 'number' && status >= 400 && status < 600) {
    return status
  }
  const name = (err as { name?: unknown } | undefined)?.name
  return typeof name === 'string' ? (STATUS_BY_NAME[name] ?? 500) : 500
}

/** Turns an error answer back into a named error. */
export function errorFromBody (status: number, body: unknown): IdleGridError {
  const info = (body as Partial<ErrorBody> | undefined)?.error
  const name = typeof info?.name === 'string' ? info.name : 'ControlApiError'
  const message = typeof info?.message === 'string' ? info.message : `control API answered HTTP ${status}`
  const retryable = info?.retryable === true
  const Known = Object.hasOwn(KNOWN_ERRORS, name) ? KNOWN_ERRORS[name] : undefined
  if (Known != null) {
    return new Known(message, { retryable })
  }
  return new ControlApiError(message, { status, remoteName: name, retryable })
}
