import { Assistants } from './assistants.js';
import type { ServiceContext } from './context.js';
import { FileBatches } from './file-batches.js';
import { Files } from './files.js';
import { Messages } from './messages.js';
import { Runs } from './runs.js';
import { Steps } from './steps.js';
import { Threads } from './threads.js';
import { Uploads } from './uploads.js';
import { VectorStoreFiles } from './vector-store-files.js';
import { VectorStores } from './vector-stores.js';

export interface Services {
  assistants: Assistants;
  threads: Threads;
  messages: Messages;
  runs: Runs;
  steps: Steps;
  files: Files;
  uploads: Uploads;
  vectorStores: VectorStores;
  vectorStoreFiles: VectorStoreFiles;
  fileBatches: FileBatches;
}

export function createServices(ctx: ServiceContext): Services {
  return {
    assistants: new Assistants(ctx),
    threads: new Threads(ctx),
    messages: new Messages(ctx),
    runs: new Runs(ctx),
    steps: new Steps(ctx),
    files: new Files(ctx),
    uploads: new Uploads(ctx),
    vectorStores: new VectorStores(ctx),
    vectorStoreFiles: new VectorStoreFiles(ctx),
    fileBatches: new FileBatches(ctx),
  };
}
