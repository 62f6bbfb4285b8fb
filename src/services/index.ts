import { Assistants } from './assistants.js';
import type { ServiceContext } from './context.js';
import { Messages } from './messages.js';
import { Runs } from './runs.js';
import { Steps } from './steps.js';
import { Threads } from './threads.js';

export interface Services {
  assistants: Assistants;
  threads: Threads;
  messages: Messages;
  runs: Runs;
  steps: Steps;
}

export function createServices(ctx: ServiceContext): Services {
  return {
    assistants: new Assistants(ctx),
    threads: new Threads(ctx),
    messages: new Messages(ctx),
    runs: new Runs(ctx),
    steps: new Steps(ctx),
  };
}
