// The one vitest configuration for the workspace: every package's unit tests
// and the cross-package suites under test/. Isolated-vm needs
// --no-node-snapshot, which worker threads reject, hence forks.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('..', import.meta.url))

export default defineConfig({
  test: {
    root,
    include: [
      'packages/*/test/**/*.spec.ts',
      'protocols/*/test/**/*.spec.ts',
      'sandbox/*/test/**/*.spec.ts',
      'apps/*/test/**/*.spec.ts',
      'test/*/**/*.spec.ts'
    ],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    setupFiles: [fileURLToPath(new URL('./utils/src/setup.ts', import.meta.url))],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: true,
    maxWorkers: 2
  }
})
