// Size limits and names of the receipt wire format.

/** Longest job or task id carried in a receipt, in UTF-8 bytes. */
export const MAX_RECEIPT_ID_LENGTH = 256

/** Most tasks one receipt pays for: `taskId` and up to 255 `moreTaskIds`. */
export const MAX_RECEIPT_TASKS = 256

/**
 * Largest encoded Receipt a decoder accepts, in bytes: room for a receipt of
 * MAX_RECEIPT_TASKS task ids of MAX_RECEIPT_ID_LENGTH bytes each (about
 * 66,900 bytes with the other fields at their largest). A one-task receipt
 * is ~300 bytes; 64 of the largest fit a session message (6 MiB) with room
 * to spare.
 */
export const MAX_RECEIPT_SIZE = 68 * 1024

/** Length of `prevHash` when present: a sha256 digest. */
export const RECEIPT_HASH_LENGTH = 32

/**
 * Prefix of the bytes an issuer signs, so a receipt signature can never be
 * replayed as a signature over anything else made with the same node key.
 */
export const RECEIPT_SIGNATURE_DOMAIN = 'idlegrid-receipt-v1:'
