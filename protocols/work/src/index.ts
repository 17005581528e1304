// @idlegrid/protocol-work: the generated codecs, ids, limits and message
// checks of the work protocols. Stream handling lives in packages/jobs and
// packages/worker.
export * from './constants.js'
export * from './timeout-signal.js'
export * from './messages.js'
export {
  Requirements,
  Announce,
  AnnounceResponse,
  BundleRequest,
  BundleChunk,
  LeaseRequest,
  TaskGrant,
  LeaseResponse,
  Progress,
  Checkpoint,
  TaskError,
  RecordOutcome,
  Result,
  ResultAck,
  Results,
  ResultAcks,
  TaskRef,
  Release,
  Ready,
  Offer,
  Receipts,
  ReceiptStatus,
  ReceiptAck,
  WorkerMessage,
  SubmitterMessage
} from './work.js'
