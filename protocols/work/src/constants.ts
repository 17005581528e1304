// Protocol ids, size limits and timeouts of the work protocols; both the
// submitter (packages/jobs) and the volunteer (packages/worker) read them here.

const KiB = 1024
const MiB = 1024 * KiB

/** Submitter -> volunteer: "job X has work", one request and one response per stream. */
export const ANNOUNCE_PROTOCOL = '/idlegrid/work/announce/1.0.0'
/** Volunteer -> submitter: fetch a signed bundle by id, answered in chunks. */
export const BUNDLE_PROTOCOL = '/idlegrid/work/bundle/1.0.0'
/**
 * Volunteer -> submitter: one long-lived stream for leases, progress,
 * checkpoints, results, and credit receipts with their acknowledgements
 * (added in 1.1.0), results in groups and work pushed to the volunteer
 * (added in 1.2.0), standing Ready requests answered with Offers of tasks
 * (added in 1.3.0; an older peer would reset a stream carrying them).
 */
export const SESSION_PROTOCOL = '/idlegrid/work/session/1.3.0'

/** Largest encoded Announce / AnnounceResponse. */
export const MAX_ANNOUNCE_SIZE = 4 * KiB
/** Largest encoded BundleRequest. */
export const MAX_BUNDLE_REQUEST_SIZE = 1 * KiB
/** Payload bytes per BundleChunk. */
export const BUNDLE_CHUNK_SIZE = 512 * KiB
/** Largest encoded BundleChunk (payload plus status, reason and size). */
export const MAX_BUNDLE_CHUNK_SIZE = BUNDLE_CHUNK_SIZE + 8 * KiB
/** Largest encoded signed bundle a volunteer will fetch. */
export const MAX_BUNDLE_SIZE = 32 * MiB

/** Largest JSON encoding of one input record; bigger ones are refused at submit. */
export const MAX_RECORD_SIZE = 1 * MiB
/** Largest sum of the JSON encodings of the records of one task (a batch). */
export const MAX_TASK_INPUT_SIZE = 4 * MiB
/** Most records in one task (the batch size limit). */
export const MAX_RECORDS_PER_TASK = 1024
/** Largest JSON encoding of one checkpoint state. */
export const MAX_CHECKPOINT_SIZE = 1 * MiB
/** Largest sum of the JSON encodings of the outcomes of one task. */
export const MAX_RESULT_SIZE = 4 * MiB
/** Most tasks granted by one LeaseResponse. */
export const MAX_TASKS_PER_LEASE = 64
/**
 * A lease answer or offer says how many of the job's tasks still wait for
 * the volunteer (`remaining`) when fewer than this many do; volunteers stop
 * leasing ahead below it (the end game of a job).
 */
export const REMAINING_TOLD_BELOW = 8
/**
 * Largest encoded WorkerMessage / SubmitterMessage. A lease response always
 * fits one task (input + checkpoint) and packs more only while they fit.
 */
export const MAX_SESSION_MESSAGE_SIZE = MAX_TASK_INPUT_SIZE + MAX_CHECKPOINT_SIZE + 1 * MiB
/** Most results in one Results message, and acks in one ResultAcks. */
export const MAX_RESULTS_PER_MESSAGE = 256
/** Most receipts in one Receipts message, and statuses in one ReceiptAck. */
export const MAX_RECEIPTS_PER_MESSAGE = 64
/** Largest encoded receipt carried in a Receipts message (the receipt format's own limit). */
export const MAX_RECEIPT_BYTES = 4 * KiB
/** Longest id string (job, task, bundle) accepted on the wire. */
export const MAX_ID_LENGTH = 128
/** Longest reason / error message string kept from the wire. */
export const MAX_REASON_LENGTH = 4 * KiB

/** One announce round trip, dial included. */
export const ANNOUNCE_TIMEOUT_MS = 5_000
/** Whole bundle transfer. */
export const BUNDLE_TIMEOUT_MS = 30_000
/** One request/response on the session stream (lease, result). */
export const REQUEST_TIMEOUT_MS = 10_000
/** A session stream with no message for this long is closed by the submitter. */
export const SESSION_IDLE_TIMEOUT_MS = 5 * 60_000

/** Concurrent inbound streams per connection, per protocol. */
export const MAX_INBOUND_ANNOUNCE_STREAMS = 4
export const MAX_INBOUND_BUNDLE_STREAMS = 2
export const MAX_INBOUND_SESSION_STREAMS = 2
