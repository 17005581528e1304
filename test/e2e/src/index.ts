// Shared helpers of the end-to-end suites.
export { CLI_BIN, childEnv, freePort, runCli, runCliJson, spawnDaemon, waitForControl, waitFor, tempDataDir } from './processes.js'
export type { CliResult, DaemonOptions, DaemonProcess, RunOptions } from './processes.js'
