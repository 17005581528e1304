// @idlegrid/sqlite: durable commits of IdleGrid's SQLite files without
// blocking the event loop, and statements with their LIMIT in the SQL (see
// README.md and docs/durability.md).
export { walSync } from './wal-sync.js'
export type { WalSync, WalSyncInit } from './wal-sync.js'
export { byLimit, sqlLimit } from './limit.js'
