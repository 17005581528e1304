// The list of commands, in the order `idlegrid --help` shows them. A new
// command is one file in this folder plus one line here.
import { capacityCommand } from './capacity.js'
import { creditsCommand } from './credits.js'
import { daemonCommand } from './daemon.js'
import { findCommand } from './find.js'
import { idCommand } from './id.js'
import { jobCommand } from './job.js'
import { jobsCommand } from './jobs.js'
import { peersCommand } from './peers.js'
import { statusCommand } from './status.js'
import { submitCommand } from './submit.js'
import { swarmCommand } from './swarm.js'
import { trustCommand } from './trust.js'
import type { Command } from '../command.js'

export const COMMANDS: Command[] = [
  daemonCommand,
  statusCommand,
  peersCommand,
  capacityCommand,
  findCommand,
  idCommand,
  submitCommand,
  jobsCommand,
  jobCommand,
  creditsCommand,
  swarmCommand,
  trustCommand
]
