// Protocol id and limits of the direct capacity query.

export const PROTOCOL_NAME = 'capacity'
export const PROTOCOL_VERSION = '1.0.0'
export const PROTOCOL = `/idlegrid/${PROTOCOL_NAME}/${PROTOCOL_VERSION}`

/** Largest encoded request or response, bytes. A response with 64 GPU names fits well inside. */
export const MAX_MESSAGE_SIZE = 8 * 1024

/** Largest nonce a request may carry, bytes. */
export const MAX_NONCE_SIZE = 64

/** Most GPU model names one response may list (also enforced by the codec). */
export const MAX_GPU_MODELS = 64

/** How long one query (open stream, request, response) may take, ms. */
export const TIMEOUT = 5_000

/** Concurrent inbound capacity queries per connection. */
export const MAX_INBOUND_STREAMS = 4

/** Concurrent outbound capacity queries per connection. */
export const MAX_OUTBOUND_STREAMS = 4
