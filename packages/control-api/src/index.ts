// @idlegrid/control-api: the daemon's HTTP + JSON control server (loopback,
// bearer token) and the typed client the CLI and other tools use.
export { createControlServer, respond, ndjson, withBodyLimit, JsonResponse, NdjsonResponse, DEFAULT_MAX_BODY_BYTES, DEFAULT_KEEP_ALIVE_MS } from './server.js'
export type { ControlServer, ControlServerInit, RouteHandler, RouteRequest, RouteTable } from './server.js'
export { createControlClient, DEFAULT_TIMEOUT_MS } from './client.js'
export type { ControlClient, ControlClientInit, RequestOptions } from './client.js'
export { compileRoutes, matchRoute } from './router.js'
export type { CompiledRoute, RouteLookup, RouteMatch } from './router.js'
export {
  CONTROL_FILE, TOKEN_FILE, generateToken, writeControlFiles, removeControlFiles,
  readControlFiles, notRunning, processAlive
} from './control-files.js'
export type { ControlInfo } from './control-files.js'
export { ControlApiError, PayloadTooLargeError, statusForError, errorFromBody } from './errors.js'
export type { ErrorBody } from './errors.js'
export { ROUTES, MAX_JOB_SUBMISSION_BYTES, jobPath } from './types.js'
export type {
  StatusInfo, PeerSummary, FindQuery, FoundVolunteer, IdInfo, VolunteerCapacity,
  UnsignedBundle, JobSubmission, SubmittedJob, JobDetail, JobEvent, JobRefusalInfo, RunningTaskInfo, JobInfo, JobListQuery, RecordResult,
  ReceiptInfo, PeerCreditInfo, CreditsInfo, CreditProblemInfo, ForkInfo, TrustRecordInfo, CreditsVerifyReport
} from './types.js'
export { jobHandle } from './job-handle.js'
export type { JobHandle, SubmitOptions, ResultStreamOptions } from './job-handle.js'
