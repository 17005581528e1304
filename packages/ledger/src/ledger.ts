// The credit ledger: receipts this node issued and received, in one SQLite
// file (WAL; receipts are on disk before issue() or accept() resolves).
// Balances are derived from receipts on read.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { byLimit, walSync } from '@idlegrid/sqlite'
import { InvalidInputError } from '@idlegrid/interface'
import { MAX_RECEIPT_ID_LENGTH, MAX_RECEIPT_SIZE, MAX_RECEIPT_TASKS, Receipt } from '@idlegrid/protocol-receipt'
import { logger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ReceiptRejected } from './errors.js'
import type { ReceiptRejectReason } from './errors.js'
import {
  MAX_RECEIPT_CPU_MS, checkReceiptFields, milliCreditsFor, publicKeyOf, readReceipt, receiptTaskIds, sealReceipt,
  verifyUnsignedBytes
} from './receipt.js'
import type { SealedReceipt } from './receipt.js'
import { createTrustStore } from './trust.js'
import type { TrustInit, TrustStore } from './trust.js'
import type { PrivateKey } from '@libp2p/interface'

const log = logger('idlegrid:ledger')

/**
 * Largest receipt issueMany() signs unless told otherwise, in bytes: what
 * the work session protocol carries per receipt (protocols/work
 * MAX_RECEIPT_BYTES). The tasks of a round that would make a larger receipt
 * are split over several.
 */
export const DEFAULT_MAX_ISSUED_RECEIPT_SIZE = 4096

export interface LedgerInit {
  /** SQLite file of the ledger; created (with its folder) if missing. */
  path: string
  /** This node's identity key: signs issued receipts; its PeerId is the worker of received ones. */
  privateKey: PrivateKey
  /** Parameters of the adaptive-trust store kept in the same file. */
  trust?: TrustInit
  /** Clock for receipt timestamps, ms. Default Date.now. */
  now?(): number
  /**
   * Largest receipt issued, in bytes (1024 to MAX_RECEIPT_SIZE): the tasks
   * of one worker and job that would not fit one receipt go into several.
   * @default DEFAULT_MAX_ISSUED_RECEIPT_SIZE (4096)
   */
  maxReceiptSize?: number
}

export interface IssueRequest {
  /** PeerId of the volunteer to credit. */
  worker: string
  jobId: string
  taskId: string
  /** CPU ms to credit, already capped with capCpuClaim. Whole number. */
  cpuMs: number
}

export type ReceiptDirection = 'issued' | 'received'

export interface StoredReceipt {
  /** Lowercase hex sha256 of the unsigned encoding; the receipt's name in acknowledgements. */
  hash: string
  receipt: Receipt
  /** The exact signed encoding, for transport. */
  bytes: Uint8Array
  direction: ReceiptDirection
  /** Issued receipts: whether the worker confirmed it holds the receipt. Received: always true. */
  acknowledged: boolean
  /** When this ledger stored it, ms. */
  storedAt: number
}

/** What issue() answers for one request: the receipt that pays its task, which may pay other tasks too. */
export interface IssuedReceipt extends StoredReceipt {
  /**
   * CPU ms credited for this request's own task; the receipt's cpuMs is the
   * sum over its tasks. For a task paid before: what was first credited.
   */
  taskCpuMs: number
}

export type ForkKind =
  /** Two different receipts signed with the same issuer and seq. */
  | 'conflicting-seq'
  /** A receipt whose prevHash does not match the known receipt before it (or the known one after it does not point to it). */
  | 'broken-link'

/** Proof that an issuer signed two incompatible histories. Kept; never counted in balances. */
export interface ForkEvidence {
  issuer: string
  seq: number
  kind: ForkKind
  /** Hash of the receipt already in the ledger that the new one conflicts with. */
  knownHash: string
  /** Hash and bytes of the refused receipt (signed by the issuer: the evidence). */
  conflictingHash: string
  conflicting: Uint8Array
  detectedAt: number
}

export interface AcceptOptions {
  /**
   * The PeerId the receipts arrived from: one issued by anybody else is
   * refused ('wrong-issuer'). Only an issuer hands over its own receipts.
   */
  from?: string
}

export type AcceptResult =
  | { status: 'accepted', hash: string, receipt: Receipt }
  /** The same receipt was already stored: nothing changed. */
  | { status: 'duplicate', hash: string, receipt: Receipt }
  /** The issuer forked its chain: the evidence is stored, balances are unchanged. */
  | { status: 'fork', hash: string, evidence: ForkEvidence }

export interface PeerBalance {
  peer: string
  /** Milli-credits this peer paid us (receipts it issued to us). */
  earnedMilli: number
  /** Milli-credits we paid this peer (receipts we issued to it). */
  spentMilli: number
  /** earnedMilli - spentMilli: positive when this peer paid us more than we paid it. */
  netMilli: number
  received: number
  issued: number
}

export interface Balances {
  earnedMilli: number
  spentMilli: number
  netMilli: number
  peers: PeerBalance[]
}

export type VerifyProblemKind = 'garbled' | 'tampered' | 'bad-signature' | 'wrong-direction' | 'chain-gap' | 'chain-link' | 'fork'

export interface VerifyProblem {
  kind: VerifyProblemKind
  /** Hash of the receipt concerned (as stored), when there is one. */
  hash?: string
  issuer?: string
  seq?: number
  message: string
}

export interface VerifyReport {
  /** True when no problem was found. */
  ok: boolean
  /** Receipts checked. */
  receipts: number
  issued: number
  received: number
  /** Balances re-derived from the decoded receipt bytes (not from the indexed columns). */
  balances: Balances
  problems: VerifyProblem[]
}

export interface Ledger {
  /** This node's PeerId string. */
  readonly peerId: string
  /** Adaptive trust of volunteers, kept in the same file. */
  readonly trust: TrustStore
  /**
   * Creates, signs and durably stores the next receipt of this node's chain
   * before it resolves. Idempotent per (jobId, taskId, worker): the receipt
   * that first paid the task is returned again (with the cpuMs first
   * credited for it), whatever cpuMs the repeat names.
   */
  issue(request: IssueRequest): Promise<IssuedReceipt>
  /**
   * issue() for several requests, one answer per request in their order.
   * The requests whose task is not paid yet are grouped by (worker, jobId),
   * in order of first appearance: each group becomes one receipt paying all
   * its tasks (at most MAX_RECEIPT_TASKS, and within maxReceiptSize; more
   * make several), so several answers may be the same receipt. The receipts
   * are consecutive in the chain and stored in one transaction (one fsync
   * for all). Every request is checked before any is signed.
   */
  issueMany(requests: IssueRequest[]): Promise<IssuedReceipt[]>
  /** Checks and stores a receipt issued to this node (bytes from the wire, or a decoded Receipt). Throws ReceiptRejected. */
  accept(receipt: Uint8Array | Receipt, options?: AcceptOptions): Promise<AcceptResult>
  /**
   * accept() for several receipts, stored in one transaction (one fsync for
   * all), in order: each answer is what accept() would have said after the
   * ones before it. A refused receipt is `rejected` with its ReceiptRejected.
   */
  acceptMany(receipts: Array<Uint8Array | Receipt>, options?: AcceptOptions): Promise<Array<PromiseSettledResult<AcceptResult>>>
  /** Runs `fn` (trust updates, say) in one transaction of the ledger file: one fsync for all its writes. */
  transaction<T>(fn: () => T): T
  /** Issued receipts the worker has not acknowledged yet, oldest first (all workers when worker is omitted). */
  unacknowledged(worker?: string, limit?: number): StoredReceipt[]
  /** Marks an issued receipt acknowledged; false when no issued receipt has this hash. */
  markAcknowledged(hash: string): boolean
  /** markAcknowledged() for several hashes in one transaction: for each, whether an issued receipt has it. */
  markAcknowledgedAll(hashes: string[]): boolean[]
  get(hash: string): StoredReceipt | undefined
  balances(): Balances
  /** The n most recently stored receipts, newest first. Default 20. */
  recent(n?: number): StoredReceipt[]
  forks(): ForkEvidence[]
  /** Re-derives everything from the stored receipt bytes and reports what does not hold. */
  verify(): Promise<VerifyReport>
  /** Closes the file. Await pending issue() calls first. */
  close(): void
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS receipts (
  hash TEXT PRIMARY KEY,
  issuer TEXT NOT NULL,
  worker TEXT NOT NULL,
  job_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  cpu_ms INTEGER NOT NULL,
  milli_credits INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('issued', 'received')),
  acknowledged INTEGER NOT NULL DEFAULT 0,
  stored_at INTEGER NOT NULL,
  UNIQUE (issuer, seq)
);
-- Every task an issued receipt pays (one row per task): what makes issuing
-- idempotent per (job, task, worker) when a receipt pays several tasks.
CREATE TABLE IF NOT EXISTS receipt_tasks (
  hash TEXT NOT NULL,
  job_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  worker TEXT NOT NULL,
  cpu_ms INTEGER NOT NULL,
  UNIQUE (job_id, task_id, worker)
);
CREATE INDEX IF NOT EXISTS receipts_unacked ON receipts (direction, acknowledged, worker);
-- Per peer and direction, the sum and count of the receipts (balances()):
-- kept by triggers in the transaction of every change to receipts, so it is
-- always what a GROUP BY over receipts would give, without reading them all
-- (34 ms at 50,000 receipts, 560 ms at 500,000; a busy volunteer gets a
-- receipt per task). A ledger from before has its totals made on open.
CREATE TABLE IF NOT EXISTS peer_totals (
  peer TEXT NOT NULL,
  direction TEXT NOT NULL,
  milli INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (peer, direction)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS receipts_total_insert AFTER INSERT ON receipts BEGIN
  INSERT INTO peer_totals (peer, direction, milli, count)
    VALUES (CASE NEW.direction WHEN 'received' THEN NEW.issuer ELSE NEW.worker END, NEW.direction, NEW.milli_credits, 1)
    ON CONFLICT (peer, direction) DO UPDATE SET milli = milli + excluded.milli, count = count + 1;
END;
CREATE TRIGGER IF NOT EXISTS receipts_total_delete AFTER DELETE ON receipts BEGIN
  UPDATE peer_totals SET milli = milli - OLD.milli_credits, count = count - 1
    WHERE peer = (CASE OLD.direction WHEN 'received' THEN OLD.issuer ELSE OLD.worker END) AND direction = OLD.direction;
END;
CREATE TRIGGER IF NOT EXISTS receipts_total_update AFTER UPDATE OF milli_credits, direction, issuer, worker ON receipts BEGIN
  UPDATE peer_totals SET milli = milli - OLD.milli_credits, count = count - 1
    WHERE peer = (CASE OLD.direction WHEN 'received' THEN OLD.issuer ELSE OLD.worker END) AND direction = OLD.direction;
  INSERT INTO peer_totals (peer, direction, milli, count)
    VALUES (CASE NEW.direction WHEN 'received' THEN NEW.issuer ELSE NEW.worker END, NEW.direction, NEW.milli_credits, 1)
    ON CONFLICT (peer, direction) DO UPDATE SET milli = milli + excluded.milli, count = count + 1;
END;
CREATE TABLE IF NOT EXISTS forks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  issuer TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  known_hash TEXT NOT NULL,
  conflicting_hash TEXT NOT NULL,
  conflicting BLOB NOT NULL,
  detected_at INTEGER NOT NULL,
  UNIQUE (known_hash, conflicting_hash)
);
`

interface ReceiptRow {
  hash: string
  issuer: string
  worker: string
  job_id: string
  task_id: string
  cpu_ms: number
  milli_credits: number
  seq: number
  prev_hash: string
  timestamp: number
  bytes: Buffer
  direction: ReceiptDirection
  acknowledged: number
  stored_at: number
}

interface ForkRow {
  issuer: string
  seq: number
  kind: ForkKind
  known_hash: string
  conflicting_hash: string
  conflicting: Buffer
  detected_at: number
}

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
const fromHex = (hex: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(hex, 'hex'))

function toStored (row: ReceiptRow): StoredReceipt {
  const bytes = new Uint8Array(row.bytes)
  return {
    hash: row.hash,
    receipt: Receipt.decode(bytes),
    bytes,
    direction: row.direction,
    acknowledged: row.direction === 'received' || row.acknowledged === 1,
    storedAt: row.stored_at
  }
}

function toEvidence (row: ForkRow): ForkEvidence {
  return {
    issuer: row.issuer,
    seq: row.seq,
    kind: row.kind,
    knownHash: row.known_hash,
    conflictingHash: row.conflicting_hash,
    conflicting: new Uint8Array(row.conflicting),
    detectedAt: row.detected_at
  }
}

/** Bytes of a varint protobuf field holding `value`. */
function numberSize (value: number): number {
  let size = 2
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) size++
  return size
}

/** Bytes of a length-delimited protobuf field whose value is `length` bytes. */
function fieldSize (length: number): number {
  return numberSize(length) + length
}

/**
 * Encoded size of a receipt paying `request`'s task at `seq` (or below),
 * without its cpuMs and milliCredits fields: the tasks after the first add
 * fieldSize(byteLength) each.
 */
function receiptSizeWithout (issuer: string, request: IssueRequest, seq: number, timestamp: number): number {
  return fieldSize(Buffer.byteLength(issuer)) + fieldSize(Buffer.byteLength(request.worker)) + fieldSize(Buffer.byteLength(request.jobId)) +
    fieldSize(Buffer.byteLength(request.taskId)) + numberSize(seq) + fieldSize(32) + numberSize(timestamp) + fieldSize(64)
}

/** Bytes of the cpuMs and milliCredits fields of a receipt crediting `cpuMs`. */
const creditSize = (cpuMs: number): number => numberSize(cpuMs) + numberSize(milliCreditsFor(cpuMs))

function checkHash (hash: string): void {
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new InvalidInputError(`a receipt hash is 64 lowercase hex characters, got ${JSON.stringify(hash)}`)
  }
}

function sumBalances (rows: Array<{ peer: string, direction: ReceiptDirection, milli: number, count: number }>): Balances {
  const peers = new Map<string, PeerBalance>()
  for (const row of rows) {
    const entry = peers.get(row.peer) ?? { peer: row.peer, earnedMilli: 0, spentMilli: 0, netMilli: 0, received: 0, issued: 0 }
    if (row.direction === 'received') {
      entry.earnedMilli += row.milli
      entry.received += row.count
    } else {
      entry.spentMilli += row.milli
      entry.issued += row.count
    }
    entry.netMilli = entry.earnedMilli - entry.spentMilli
    peers.set(row.peer, entry)
  }
  const list = [...peers.values()].sort((a, b) => a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0)
  const earnedMilli = list.reduce((sum, p) => sum + p.earnedMilli, 0)
  const spentMilli = list.reduce((sum, p) => sum + p.spentMilli, 0)
  return { earnedMilli, spentMilli, netMilli: earnedMilli - spentMilli, peers: list }
}

/** Opens (creating if needed) the ledger file of the node that owns `privateKey`. */
export function openLedger (init: LedgerInit): Ledger {
  const self = peerIdFromPrivateKey(init.privateKey).toString()
  const now = init.now ?? Date.now
  const maxReceiptSize = init.maxReceiptSize ?? DEFAULT_MAX_ISSUED_RECEIPT_SIZE
  if (!Number.isSafeInteger(maxReceiptSize) || maxReceiptSize < 1024 || maxReceiptSize > MAX_RECEIPT_SIZE) {
    throw new InvalidInputError(`maxReceiptSize must be a whole number of bytes from 1024 to ${MAX_RECEIPT_SIZE}, got ${maxReceiptSize}`)
  }
  mkdirSync(dirname(init.path), { recursive: true })
  const db = new Database(init.path)
  try {
    db.pragma('journal_mode = WAL')
    // NORMAL: commits survive a crash at once; issued and received receipts
    // are synced to disk (off the event loop) before issue()/accept() resolve
    db.pragma('synchronous = NORMAL')
    db.pragma('busy_timeout = 5000')
    // IMMEDIATE: a second process opening the same old file waits for this
    // one's totals instead of making them again
    db.transaction(() => {
      const totalsKept = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'peer_totals'").get() != null
      db.exec(SCHEMA)
      if (!totalsKept) {
        // a ledger from before the totals: made from its receipts, with the triggers, in one commit
        db.exec(`INSERT INTO peer_totals (peer, direction, milli, count)
          SELECT CASE direction WHEN 'received' THEN issuer ELSE worker END, direction, SUM(milli_credits), COUNT(*)
          FROM receipts GROUP BY 1, 2`)
      }
    }).immediate()
    const owner = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'self'").get()
    if (owner == null) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('self', ?)").run(self)
    } else if (owner.value !== self) {
      throw new InvalidInputError(`the ledger ${init.path} belongs to node ${owner.value}, not ${self}: open it with that node's key, or use another file`)
    }
    // A ledger written before receipts paid several tasks: every issued
    // receipt pays the one task of its columns, so repeats keep their answer.
    if (db.prepare("SELECT 1 FROM meta WHERE key = 'receipt-tasks'").get() == null) {
      db.transaction(() => {
        db.exec(`INSERT OR IGNORE INTO receipt_tasks (hash, job_id, task_id, worker, cpu_ms)
          SELECT hash, job_id, task_id, worker, cpu_ms FROM receipts WHERE direction = 'issued' ORDER BY seq;
          DROP INDEX IF EXISTS receipts_task;
          INSERT INTO meta (key, value) VALUES ('receipt-tasks', '1')`)
      })()
    }
  } catch (err) {
    db.close()
    throw err
  }
  const trust = createTrustStore(db, init.trust, now)
  const durable = walSync(db)

  const byHash = db.prepare<[string], ReceiptRow>('SELECT * FROM receipts WHERE hash = ?')
  const bySeq = db.prepare<[string, number], ReceiptRow>('SELECT * FROM receipts WHERE issuer = ? AND seq = ?')
  const paidTask = db.prepare<[string, string, string], { hash: string, cpu_ms: number }>(
    'SELECT hash, cpu_ms FROM receipt_tasks WHERE job_id = ? AND task_id = ? AND worker = ?')
  const insertTask = db.prepare<[string, string, string, string, number]>(
    'INSERT INTO receipt_tasks (hash, job_id, task_id, worker, cpu_ms) VALUES (?, ?, ?, ?, ?)')
  const allTasks = db.prepare<[], { hash: string, task_id: string, cpu_ms: number }>('SELECT hash, task_id, cpu_ms FROM receipt_tasks ORDER BY rowid')
  const lastIssued = db.prepare<[string], { seq: number, hash: string }>('SELECT seq, hash FROM receipts WHERE issuer = ? ORDER BY seq DESC LIMIT 1')
  const insert = db.prepare(`INSERT INTO receipts
    (hash, issuer, worker, job_id, task_id, cpu_ms, milli_credits, seq, prev_hash, timestamp, bytes, direction, acknowledged, stored_at)
    VALUES (@hash, @issuer, @worker, @jobId, @taskId, @cpuMs, @milliCredits, @seq, @prevHash, @timestamp, @bytes, @direction, @acknowledged, @storedAt)`)
  const insertFork = db.prepare(`INSERT OR IGNORE INTO forks
    (issuer, seq, kind, known_hash, conflicting_hash, conflicting, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const forkByPair = db.prepare<[string, string], ForkRow>('SELECT * FROM forks WHERE known_hash = ? AND conflicting_hash = ?')
  // the limit is in the SQL (byLimit): a bound LIMIT is prepared again at every run
  const unackedAll = byLimit(db, limit => `SELECT * FROM receipts WHERE direction = 'issued' AND acknowledged = 0 ORDER BY seq LIMIT ${limit}`)
  const unackedFor = byLimit(db, limit => `SELECT * FROM receipts WHERE direction = 'issued' AND acknowledged = 0 AND worker = ? ORDER BY seq LIMIT ${limit}`)
  const ack = db.prepare("UPDATE receipts SET acknowledged = 1 WHERE hash = ? AND direction = 'issued'")
  const balanceRows = db.prepare<[], { peer: string, direction: ReceiptDirection, milli: number, count: number }>(
    'SELECT peer, direction, milli, count FROM peer_totals WHERE count > 0 ORDER BY peer, direction')
  const recentRows = byLimit(db, limit => `SELECT * FROM receipts ORDER BY rowid DESC LIMIT ${limit}`)
  const allRows = db.prepare<[], ReceiptRow>('SELECT * FROM receipts ORDER BY issuer, seq')
  const allForks = db.prepare<[], ForkRow>('SELECT * FROM forks ORDER BY id')

  const store = (receipt: Receipt, hash: string, bytes: Uint8Array, direction: ReceiptDirection, storedAt = now()): void => {
    insert.run({
      hash,
      issuer: receipt.issuer,
      worker: receipt.worker,
      jobId: receipt.jobId,
      taskId: receipt.taskId,
      cpuMs: receipt.cpuMs,
      milliCredits: receipt.milliCredits,
      seq: receipt.seq,
      prevHash: toHex(receipt.prevHash),
      timestamp: receipt.timestamp,
      bytes: Buffer.from(bytes),
      direction,
      acknowledged: direction === 'received' ? 1 : 0,
      storedAt
    })
  }

  /** One group of a round's requests for one (worker, job): one receipt. `size`: its encoding's bytes but for cpuMs and milliCredits. */
  interface Group { request: IssueRequest, taskIds: string[], cpuMs: number[], totalCpuMs: number, size: number, sealed?: SealedReceipt }

  const storeIssued = db.transaction((base: number, groups: Group[], storedAt: number) => {
    // Another process on the same file would break the chain: refuse rather than fork.
    if ((lastIssued.get(self)?.seq ?? 0) !== base) {
      throw new InvalidInputError(`the ledger ${init.path} was changed by another process while issuing: only one daemon may use a ledger file`)
    }
    for (const g of groups) {
      const { receipt, hash, bytes } = g.sealed as SealedReceipt
      store(receipt, hash, bytes, 'issued', storedAt)
      g.taskIds.forEach((taskId, i) => insertTask.run(hash, receipt.jobId, taskId, receipt.worker, g.cpuMs[i]))
    }
  })

  // issue() signs asynchronously between reading the chain head and writing
  // the next receipt; one at a time keeps the chain linear.
  let tail: Promise<unknown> = Promise.resolve()
  const serialize = async <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => {})
    return run
  }

  const checkIssueRequest = (request: IssueRequest): void => {
    if (typeof request !== 'object' || request === null) {
      throw new InvalidInputError('issue() takes { worker, jobId, taskId, cpuMs }')
    }
    try {
      publicKeyOf(request.worker, 'worker')
    } catch {
      throw new InvalidInputError(`worker must be the volunteer's PeerId string, got ${JSON.stringify(request.worker)}`)
    }
    if (request.worker === self) {
      throw new InvalidInputError('a node does not issue receipts to itself: skip the receipt for tasks this node ran for its own job')
    }
    for (const field of ['jobId', 'taskId'] as const) {
      const value = request[field]
      if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value) > MAX_RECEIPT_ID_LENGTH) {
        throw new InvalidInputError(`${field} must be a string of 1 to ${MAX_RECEIPT_ID_LENGTH} bytes, got ${JSON.stringify(value)}`)
      }
    }
    if (!Number.isSafeInteger(request.cpuMs) || request.cpuMs < 0 || request.cpuMs > MAX_RECEIPT_CPU_MS) {
      throw new InvalidInputError(`cpuMs must be a whole number of ms from 0 to ${MAX_RECEIPT_CPU_MS}, got ${request.cpuMs}: cap the claim with capCpuClaim first`)
    }
  }

  /** Decodes and checks a receipt issued to this node; throws ReceiptRejected. */
  const prepareAccept = async (input: Uint8Array | Receipt, from?: string): Promise<{ receipt: Receipt, hash: string, bytes: Uint8Array }> => {
    let bytes: Uint8Array
    if (input instanceof Uint8Array) {
      bytes = input
    } else {
      try {
        bytes = Receipt.encode(input)
      } catch (err) {
        throw new ReceiptRejected('garbled', 'the receipt object does not encode: a field has the wrong type', { cause: err })
      }
    }
    // canonical: these bytes are exactly the encoding of what they decode to
    const { receipt, unsigned, hash } = readReceipt(bytes)
    const refuse = (reason: ReceiptRejectReason, message: string): ReceiptRejected => new ReceiptRejected(reason, message, { hash })
    if (receipt.worker !== self) {
      throw refuse('wrong-worker', `the receipt credits ${receipt.worker}, not this node (${self})`)
    }
    if (receipt.issuer === self) {
      throw refuse('self-issued', 'the receipt is issued by this node to itself')
    }
    if (from != null && receipt.issuer !== from) {
      throw refuse('wrong-issuer', `the receipt is issued by ${receipt.issuer} but arrived from ${from}: only an issuer hands over its own receipts`)
    }
    if (!await verifyUnsignedBytes(receipt, unsigned)) {
      throw refuse('bad-signature', `the receipt signature is not valid for issuer ${receipt.issuer}`)
    }
    return { receipt, hash, bytes }
  }

  /** Stores a checked receipt, or the fork evidence it is; inside a transaction. */
  const applyAccept = ({ receipt, hash, bytes }: { receipt: Receipt, hash: string, bytes: Uint8Array }): AcceptResult => {
    if (byHash.get(hash) != null) {
      return { status: 'duplicate', hash, receipt }
    }
    const fork = (kind: ForkKind, known: ReceiptRow): AcceptResult => {
      insertFork.run(receipt.issuer, receipt.seq, kind, known.hash, hash, Buffer.from(bytes), now())
      const row = forkByPair.get(known.hash, hash)
      if (row == null) {
        throw new Error('fork evidence vanished after insert')
      }
      log.error('issuer %s forked its receipt chain at seq %d (%s)', receipt.issuer, receipt.seq, kind)
      return { status: 'fork', hash, evidence: toEvidence(row) }
    }
    const same = bySeq.get(receipt.issuer, receipt.seq)
    if (same != null) {
      return fork('conflicting-seq', same)
    }
    const before = receipt.seq > 1 ? bySeq.get(receipt.issuer, receipt.seq - 1) : undefined
    if (before != null && before.hash !== toHex(receipt.prevHash)) {
      return fork('broken-link', before)
    }
    const after = bySeq.get(receipt.issuer, receipt.seq + 1)
    if (after != null && after.prev_hash !== hash) {
      return fork('broken-link', after)
    }
    store(receipt, hash, bytes, 'received')
    return { status: 'accepted', hash, receipt }
  }

  const ledger: Ledger = {
    peerId: self,
    trust,

    async issue (request) {
      return (await ledger.issueMany([request]))[0]
    },

    async issueMany (requests) {
      if (!Array.isArray(requests)) {
        throw new InvalidInputError('issueMany() takes an array of { worker, jobId, taskId, cpuMs }')
      }
      requests.forEach(checkIssueRequest)
      return serialize(async () => {
        const head = lastIssued.get(self)
        const base = head?.seq ?? 0
        // each answer: a receipt already stored, or the group (new receipt) paying the task
        const answers: Array<IssuedReceipt | { group: Group, taskCpuMs: number }> = []
        const groups: Group[] = []
        const open = new Map<string, Group>()
        const inCall = new Map<string, { group: Group, taskCpuMs: number }>()
        const paid = new Map<string, StoredReceipt>()
        const timestamp = now()
        // no call makes more receipts than it has requests
        const lastSeq = base + requests.length
        for (const request of requests) {
          const taskKey = `${request.jobId}\0${request.taskId}\0${request.worker}`
          const earlier = inCall.get(taskKey)
          if (earlier != null) {
            answers.push(earlier)
            continue
          }
          const existing = paidTask.get(request.jobId, request.taskId, request.worker)
          if (existing != null) {
            let stored = paid.get(existing.hash)
            if (stored == null) {
              const row = byHash.get(existing.hash)
              if (row == null) {
                throw new Error(`receipt ${existing.hash} pays task ${request.taskId} but is not in the ledger`)
              }
              stored = toStored(row)
              paid.set(existing.hash, stored)
            }
            answers.push({ ...stored, taskCpuMs: existing.cpu_ms })
            continue
          }
          const groupKey = `${request.worker}\0${request.jobId}`
          let group = open.get(groupKey)
          const extra = fieldSize(Buffer.byteLength(request.taskId))
          if (group != null && (group.taskIds.length >= MAX_RECEIPT_TASKS || group.totalCpuMs + request.cpuMs > MAX_RECEIPT_CPU_MS ||
              group.size + extra + creditSize(group.totalCpuMs + request.cpuMs) > maxReceiptSize)) {
            group = undefined
          }
          if (group == null) {
            group = { request, taskIds: [request.taskId], cpuMs: [request.cpuMs], totalCpuMs: request.cpuMs, size: receiptSizeWithout(self, request, lastSeq, timestamp) }
            groups.push(group)
            open.set(groupKey, group)
          } else {
            group.taskIds.push(request.taskId)
            group.cpuMs.push(request.cpuMs)
            group.totalCpuMs += request.cpuMs
            group.size += extra
          }
          const answer = { group, taskCpuMs: request.cpuMs }
          inCall.set(taskKey, answer)
          answers.push(answer)
        }
        if (groups.length > 0) {
          let seq = base
          let prevHash = head == null ? new Uint8Array(0) : fromHex(head.hash)
          for (const g of groups) {
            seq++
            g.sealed = await sealReceipt({
              issuer: self,
              worker: g.request.worker,
              jobId: g.request.jobId,
              taskId: g.taskIds[0],
              moreTaskIds: g.taskIds.slice(1),
              cpuMs: g.totalCpuMs,
              milliCredits: milliCreditsFor(g.totalCpuMs),
              seq,
              prevHash,
              timestamp
            }, init.privateKey)
            checkReceiptFields(g.sealed.receipt)
            if (g.sealed.bytes.byteLength > maxReceiptSize) {
              throw new Error(`receipt #${seq} came out ${g.sealed.bytes.byteLength} bytes, over maxReceiptSize ${maxReceiptSize}: the size estimate is wrong`)
            }
            prevHash = fromHex(g.sealed.hash)
          }
          const storedAt = now()
          storeIssued(base, groups, storedAt)
          log('issued receipts %d to %d for %d task(s)', base + 1, seq, inCall.size)
          // on disk before anyone can see them: after a power cut a lost receipt's seq would be signed again, a fork
          await durable()
          for (const g of groups) {
            const { receipt, hash, bytes } = g.sealed as SealedReceipt
            paid.set(hash, { hash, receipt, bytes, direction: 'issued', acknowledged: false, storedAt })
          }
        }
        return answers.map(a => 'group' in a ? { ...(paid.get((a.group.sealed as SealedReceipt).hash) as StoredReceipt), taskCpuMs: a.taskCpuMs } : a)
      })
    },

    async accept (input, options) {
      const [answer] = await ledger.acceptMany([input], options)
      if (answer.status === 'rejected') {
        throw answer.reason
      }
      return answer.value
    },

    async acceptMany (inputs, options = {}) {
      if (!Array.isArray(inputs)) {
        throw new InvalidInputError('acceptMany() takes an array of receipts')
      }
      const checked = await Promise.allSettled(inputs.map(async input => await prepareAccept(input, options.from)))
      const results = db.transaction(() => checked.map((c): PromiseSettledResult<AcceptResult> =>
        c.status === 'rejected' ? c : { status: 'fulfilled', value: applyAccept(c.value) }))()
      await durable()
      return results
    },

    transaction (fn) {
      return db.transaction(fn)()
    },

    unacknowledged (worker, limit = 100) {
      const rows = (worker == null ? unackedAll(limit).all() : unackedFor(limit).all(worker)) as ReceiptRow[]
      return rows.map(toStored)
    },

    markAcknowledged (hash) {
      return ledger.markAcknowledgedAll([hash])[0]
    },

    markAcknowledgedAll (hashes) {
      hashes.forEach(checkHash)
      return db.transaction(() => hashes.map(hash => ack.run(hash).changes > 0))()
    },

    get (hash) {
      checkHash(hash)
      const row = byHash.get(hash)
      return row == null ? undefined : toStored(row)
    },

    balances () {
      return sumBalances(balanceRows.all())
    },

    recent (n = 20) {
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new InvalidInputError(`recent(n) takes a whole number, got ${n}`)
      }
      return (recentRows(n).all() as ReceiptRow[]).map(toStored)
    },

    forks () {
      return allForks.all().map(toEvidence)
    },

    async verify () {
      const problems: VerifyProblem[] = []
      const rows = allRows.all()
      const decoded: Array<{ row: ReceiptRow, receipt: Receipt, hash: string }> = []
      for (const row of rows) {
        let read: ReturnType<typeof readReceipt>
        try {
          read = readReceipt(new Uint8Array(row.bytes))
        } catch (err) {
          problems.push({ kind: 'garbled', hash: row.hash, issuer: row.issuer, seq: row.seq, message: `stored bytes do not decode: ${(err as Error).message}` })
          continue
        }
        const { receipt, unsigned, hash } = read
        const columnsMatch = hash === row.hash && receipt.issuer === row.issuer && receipt.worker === row.worker &&
          receipt.jobId === row.job_id && receipt.taskId === row.task_id && receipt.cpuMs === row.cpu_ms &&
          receipt.milliCredits === row.milli_credits && receipt.seq === row.seq &&
          toHex(receipt.prevHash) === row.prev_hash && receipt.timestamp === row.timestamp
        if (!columnsMatch) {
          problems.push({ kind: 'tampered', hash: row.hash, issuer: row.issuer, seq: row.seq, message: `the stored columns of receipt ${row.issuer}#${row.seq} do not match its signed bytes: the file was edited` })
        }
        if (!await verifyUnsignedBytes(receipt, unsigned)) {
          problems.push({ kind: 'bad-signature', hash: row.hash, issuer: receipt.issuer, seq: receipt.seq, message: `receipt ${receipt.issuer}#${receipt.seq} has an invalid signature` })
          continue
        }
        const direction: ReceiptDirection | undefined = receipt.issuer === self ? 'issued' : receipt.worker === self ? 'received' : undefined
        if (direction !== row.direction) {
          problems.push({ kind: 'wrong-direction', hash: row.hash, issuer: receipt.issuer, seq: receipt.seq, message: `receipt ${receipt.issuer}#${receipt.seq} is stored as ${row.direction} but is ${direction ?? 'not about this node'}` })
          continue
        }
        decoded.push({ row, receipt, hash })
      }

      // The task index of our receipts (what answers repeats) must name exactly the tasks each pays, and its credited ms add up to the receipt's.
      const index = new Map<string, { taskIds: string[], cpuMs: number }>()
      for (const row of allTasks.all()) {
        const entry = index.get(row.hash) ?? { taskIds: [], cpuMs: 0 }
        entry.taskIds.push(row.task_id)
        entry.cpuMs += row.cpu_ms
        index.set(row.hash, entry)
      }
      for (const { row, receipt, hash } of decoded) {
        if (row.direction !== 'issued') {
          continue
        }
        const entry = index.get(hash)
        const listed = receiptTaskIds(receipt)
        if (entry == null || entry.cpuMs !== receipt.cpuMs || entry.taskIds.length !== listed.length || entry.taskIds.some((id, i) => id !== listed[i])) {
          problems.push({ kind: 'tampered', hash, issuer: receipt.issuer, seq: receipt.seq, message: `the task index of receipt ${receipt.issuer}#${receipt.seq} does not match the tasks it pays (${listed.length}, ${receipt.cpuMs} CPU ms): repeats of those tasks would be answered wrongly` })
        }
      }

      // Chains: ours must be 1..N with every link; others' links are checked where neighbours are known.
      const byIssuer = new Map<string, typeof decoded>()
      for (const entry of decoded) {
        const list = byIssuer.get(entry.receipt.issuer) ?? []
        list.push(entry)
        byIssuer.set(entry.receipt.issuer, list)
      }
      for (const [issuer, list] of byIssuer) {
        list.sort((a, b) => a.receipt.seq - b.receipt.seq)
        list.forEach((entry, i) => {
          const previous = list[i - 1]
          if (issuer === self && entry.receipt.seq !== i + 1) {
            problems.push({ kind: 'chain-gap', hash: entry.hash, issuer, seq: entry.receipt.seq, message: `this node's receipt chain jumps from ${previous?.receipt.seq ?? 0} to ${entry.receipt.seq}: receipts are missing` })
          }
          if (previous != null && previous.receipt.seq === entry.receipt.seq - 1 && toHex(entry.receipt.prevHash) !== previous.hash) {
            problems.push({ kind: 'chain-link', hash: entry.hash, issuer, seq: entry.receipt.seq, message: `receipt ${issuer}#${entry.receipt.seq} does not link to receipt #${previous.receipt.seq}` })
          }
        })
      }
      for (const evidence of allForks.all()) {
        problems.push({ kind: 'fork', hash: evidence.conflicting_hash, issuer: evidence.issuer, seq: evidence.seq, message: `issuer ${evidence.issuer} signed two different histories at seq ${evidence.seq} (${evidence.kind})` })
      }

      const balances = sumBalances(decoded.map(({ receipt, row }) => ({
        peer: row.direction === 'received' ? receipt.issuer : receipt.worker,
        direction: row.direction,
        milli: receipt.milliCredits,
        count: 1
      })))
      const issued = decoded.filter(d => d.row.direction === 'issued').length
      return { ok: problems.length === 0, receipts: rows.length, issued, received: decoded.length - issued, balances, problems }
    },

    close () {
      void durable.close()
      db.close()
    }
  }
  return ledger
}
