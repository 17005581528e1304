// @idlegrid/sqlite: durable commits of IdleGrid's SQLite files without
// blocking the event loop (see README.md and docs/durability.md).
export { walSync } from './wal-sync.js'
export type { WalSync, WalSyncInit } from './wal-sync.js'
