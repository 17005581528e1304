// Size limits and names of the receipt wire format.

/** Largest encoded Receipt a decoder accepts, in bytes. A real receipt is ~300 bytes. */
export const MAX_RECEIPT_SIZE = 4096

/** Longest job or task id carried in a receipt, in UTF-8 bytes. */
export const MAX_RECEIPT_ID_LENGTH = 256

/** Length of `prevHash` when present: a sha256 digest. */
export const RECEIPT_HASH_LENGTH = 32

/**
 * Prefix of the bytes an issuer signs, so a receipt signature can never be
 * replayed as a signature over anything else made with the same node key.
 */
export const RECEIPT_SIGNATURE_DOMAIN = 'idlegrid-receipt-v1:'
