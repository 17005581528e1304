// @idlegrid/ledger: signed credit receipts, balances derived from them, the
// CPU claim check and adaptive trust. No networking: the work protocol carries receipt bytes.
export { openLedger } from './ledger.js'
export type {
  AcceptResult, Balances, ForkEvidence, ForkKind, IssueRequest, Ledger, LedgerInit, PeerBalance,
  ReceiptDirection, StoredReceipt, VerifyProblem, VerifyProblemKind, VerifyReport
} from './ledger.js'
export {
  MAX_RECEIPT_CPU_MS, MILLI_CREDITS_PER_CPU_MS, Receipt, checkReceiptFields, decodeReceipt, encodeReceipt,
  milliCreditsFor, receiptHash, receiptHashBytes, receiptSigningBytes, signReceipt, unsignedReceiptBytes,
  verifyReceiptSignature
} from './receipt.js'
export { ReceiptRejected } from './errors.js'
export type { ReceiptRejectReason } from './errors.js'
export { MAX_CLAIM_MS_PER_CORE, MIN_PEER_SAMPLES, PEER_MEDIAN_FACTOR, capCpuClaim, median } from './claim.js'
export type { ClaimLimits, ClaimResult } from './claim.js'
export {
  DEFAULT_TRUST_FLOOR, DEFAULT_TRUST_THRESHOLD, createTrustStore, openTrustStore, replicationProbability
} from './trust.js'
export type { OpenTrustStoreInit, TrustInit, TrustRecord, TrustStore } from './trust.js'
