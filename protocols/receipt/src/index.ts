// The receipt wire format: the protons codec generated from receipt.proto
// and its limits. Signing, verifying and storing receipts live in @idlegrid/ledger.
export { Receipt } from './receipt.js'
export { MAX_RECEIPT_SIZE, MAX_RECEIPT_ID_LENGTH, MAX_RECEIPT_TASKS, RECEIPT_HASH_LENGTH, RECEIPT_SIGNATURE_DOMAIN } from './constants.js'
