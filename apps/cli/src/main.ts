// The `idlegrid` process: polyfill first, then run the command line and exit
// with its code. SIGINT/SIGTERM abort the running command through its signal.
import '@idlegrid/interface/polyfill'
import { runCli } from './cli.js'

const controller = new AbortController()
const onSignal = (signal: NodeJS.Signals): void => {
  if (controller.signal.aborted) {
    // A second signal while shutting down: stop waiting.
    process.exit(130)
  }
  controller.abort(signal)
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

// A reader that went away (`idlegrid job results X | head`) is not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      process.exit(process.exitCode ?? 0)
    }
    throw err
  })
}

const code = await runCli(process.argv.slice(2), {
  io: {
    stdout: text => { process.stdout.write(text) },
    stderr: text => { process.stderr.write(text) },
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns,
    readStdin: async () => {
      if (process.stdin.isTTY === true) {
        process.stderr.write('reading input records from the terminal: one JSON value a line, Ctrl-D to end\n')
      }
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    }
  },
  signal: controller.signal
})
process.exitCode = code
// Let stdout drain, then leave even if a library left a timer or socket behind.
process.stdout.write('', () => { process.exit(code) })
