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

const code = await runCli(process.argv.slice(2), {
  io: {
    stdout: text => { process.stdout.write(text) },
    stderr: text => { process.stderr.write(text) },
    env: process.env
  },
  signal: controller.signal
})
process.exitCode = code
// Let stdout drain, then leave even if a library left a timer or socket behind.
process.stdout.write('', () => { process.exit(code) })
