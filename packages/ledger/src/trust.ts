// Adaptive trust: per volunteer, a run of consecutive valid results decides
// how often its results are replicated (BOINC-style adaptive replication).
import Database from 'better-sqlite3'
import { InvalidInputError } from '@idlegrid/interface'

export interface TrustInit {
  /** Consecutive valid results before spot checks start; below it, always replicate. Default 10. */
  threshold?: number
  /** Lowest spot-check probability, however long the record. Default 0.05. */
  floor?: number
}

export interface TrustRecord {
  peer: string
  /** Valid results since the last invalid one. */
  consecutiveValid: number
  totalValid: number
  totalInvalid: number
  /** ms timestamp of the last invalid result, if any. */
  lastInvalidAt?: number
}

export interface TrustStore {
  get(peer: string): TrustRecord
  recordValid(peer: string): TrustRecord
  /** Resets the consecutive run to 0. */
  recordInvalid(peer: string): TrustRecord
  /** The probability that this volunteer's next result is replicated. */
  replicationProbability(peer: string): number
  /** Draws whether to replicate this volunteer's next task; rng returns [0, 1). */
  needsReplication(peer: string, rng?: () => number): boolean
  list(): TrustRecord[]
}

export const DEFAULT_TRUST_THRESHOLD = 10
export const DEFAULT_TRUST_FLOOR = 0.05

/**
 * p = 1 below the threshold T; from T on p = max(floor, T / n), so p is 1 at
 * n = T, halves at 2T and reaches the floor at T / floor (200 with the
 * defaults). A 1/n decline keeps the expected number of unchecked results
 * between two checks growing only linearly with the record.
 */
export function replicationProbability (consecutiveValid: number, init: TrustInit = {}): number {
  const threshold = init.threshold ?? DEFAULT_TRUST_THRESHOLD
  const floor = init.floor ?? DEFAULT_TRUST_FLOOR
  if (consecutiveValid < threshold || consecutiveValid <= 0) {
    return 1
  }
  return Math.max(floor, Math.min(1, threshold / consecutiveValid))
}

export const TRUST_SCHEMA = `
CREATE TABLE IF NOT EXISTS trust (
  peer TEXT PRIMARY KEY,
  consecutive_valid INTEGER NOT NULL DEFAULT 0,
  total_valid INTEGER NOT NULL DEFAULT 0,
  total_invalid INTEGER NOT NULL DEFAULT 0,
  last_invalid_at INTEGER
)`

interface TrustRow { peer: string, consecutive_valid: number, total_valid: number, total_invalid: number, last_invalid_at: number | null }

function toRecord (row: TrustRow): TrustRecord {
  return {
    peer: row.peer,
    consecutiveValid: row.consecutive_valid,
    totalValid: row.total_valid,
    totalInvalid: row.total_invalid,
    ...(row.last_invalid_at != null ? { lastInvalidAt: row.last_invalid_at } : {})
  }
}

/** A trust store on an open database (the ledger's, or one of its own). */
export function createTrustStore (db: Database.Database, init: TrustInit = {}, now: () => number = Date.now): TrustStore {
  const threshold = init.threshold ?? DEFAULT_TRUST_THRESHOLD
  const floor = init.floor ?? DEFAULT_TRUST_FLOOR
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new InvalidInputError(`trust threshold must be a whole number of at least 1, got ${threshold}`)
  }
  if (!(floor > 0 && floor <= 1)) {
    throw new InvalidInputError(`trust floor must be a probability in (0, 1], got ${floor}`)
  }
  db.exec(TRUST_SCHEMA)
  const select = db.prepare<[string], TrustRow>('SELECT * FROM trust WHERE peer = ?')
  const valid = db.prepare(`INSERT INTO trust (peer, consecutive_valid, total_valid) VALUES (?, 1, 1)
    ON CONFLICT (peer) DO UPDATE SET consecutive_valid = consecutive_valid + 1, total_valid = total_valid + 1`)
  const invalid = db.prepare(`INSERT INTO trust (peer, consecutive_valid, total_invalid, last_invalid_at) VALUES (@peer, 0, 1, @at)
    ON CONFLICT (peer) DO UPDATE SET consecutive_valid = 0, total_invalid = total_invalid + 1, last_invalid_at = @at`)
  const all = db.prepare<[], TrustRow>('SELECT * FROM trust ORDER BY peer')

  const checkPeer = (peer: string): void => {
    if (typeof peer !== 'string' || peer.length === 0 || peer.length > 128) {
      throw new InvalidInputError(`a volunteer is named by its PeerId string, got ${JSON.stringify(peer)}`)
    }
  }
  const get = (peer: string): TrustRecord => {
    checkPeer(peer)
    const row = select.get(peer)
    return row != null ? toRecord(row) : { peer, consecutiveValid: 0, totalValid: 0, totalInvalid: 0 }
  }

  return {
    get,
    recordValid (peer) {
      checkPeer(peer)
      valid.run(peer)
      return get(peer)
    },
    recordInvalid (peer) {
      checkPeer(peer)
      invalid.run({ peer, at: now() })
      return get(peer)
    },
    replicationProbability (peer) {
      return replicationProbability(get(peer).consecutiveValid, { threshold, floor })
    },
    needsReplication (peer, rng = Math.random) {
      const p = replicationProbability(get(peer).consecutiveValid, { threshold, floor })
      return p >= 1 || rng() < p
    },
    list () {
      return all.all().map(toRecord)
    }
  }
}

export interface OpenTrustStoreInit extends TrustInit {
  /** SQLite file; created if missing. */
  path: string
}

/** A trust store in its own SQLite file, for callers that keep no ledger. Close with `close()`. */
export function openTrustStore (init: OpenTrustStoreInit): TrustStore & { close(): void } {
  const db = new Database(init.path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  const store = createTrustStore(db, init)
  return { ...store, close: () => { db.close() } }
}
