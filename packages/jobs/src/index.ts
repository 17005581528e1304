// @idlegrid/jobs: the submitter side of IdleGrid. Stores jobs in SQLite,
// announces them, leases tasks to volunteers and gathers results in order.
export { createSubmitter } from './submitter.js'
export type {
  Submitter, SubmitterInit, SubmitterNode, SubmitInit, SubmitterEvents, ResultsOptions, TaskProgressDetail, TaskEventDetail, JobRefusal
} from './submitter.js'
export type { ReceiptIssuedDetail, CreditFlagDetail } from './submitter.js'
export {
  JobStore, taskIdOf, DEFAULT_JOBS_LISTED, MAX_JOBS_LISTED, DEFAULT_LEASE_MARGIN_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_LEASES, DEFAULT_MAX_EXTRA_REPLICAS, MAX_REPLICAS,
  canonicalJson, checkReplicas, majorityOf, resultHash
} from './store.js'
export type {
  JobInfo, JobListOptions, JobSummary, JobState, TaskState, RecordResult, FailureInfo, VolunteerShare, JobStoreInit, Replicas, ReplicaResult, Disagreement, CreditFlag, OwedCredit
} from './store.js'
export { encodeRecords } from './inputs.js'
export { SubmitterStoppedError } from './errors.js'
