// @idlegrid/ledger: signed credit receipts, balances derived from them, the
// CPU claim check and adaptive trust. No networking: the work protocol carries receipt bytes.
export { DEFAULT_MAX_ISSUED_RECEIPT_SIZE, openLedger } from './ledger.js'
export type {
  AcceptOptions, AcceptResult, Balances, ForkEvidence, ForkKind, IssuedReceipt, IssueRequest, Ledger, LedgerInit, PeerBalance,
  ReceiptDirection, StoredReceipt, VerifyProblem, VerifyProblemKind, VerifyReport
} from './ledger.js'
export {
  MAX_RECEIPT_CPU_MS, MILLI_CREDITS_PER_CPU_MS, Receipt, checkReceiptFields, decodeReceipt, encodeReceipt,
  milliCreditsFor, receiptHash, receiptHashBytes, receiptSigningBytes, receiptTaskIds, sealReceipt, signReceipt,
  unsignedReceiptBytes, verifyReceiptSignature
} from './receipt.js'
export type { SealedReceipt, UnsignedReceipt } from './receipt.js'
export { MAX_RECEIPT_SIZE, MAX_RECEIPT_TASKS } from '@idlegrid/protocol-receipt'
export { ReceiptRejected } from './errors.js'
export type { ReceiptRejectReason } from './errors.js'
export { MAX_CLAIM_MS_PER_CORE, MIN_PEER_SAMPLES, PEER_MEDIAN_FACTOR, capCpuClaim, median } from './claim.js'
export type { ClaimLimits, ClaimResult } from './claim.js'
export {
  DEFAULT_TRUST_FLOOR, DEFAULT_TRUST_THRESHOLD, createTrustStore, openTrustStore, replicationProbability
} from './trust.js'
export type { OpenTrustStoreInit, TrustInit, TrustRecord, TrustStore } from './trust.js'
