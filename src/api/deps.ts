import type { Services } from '../services/index.js';
import type { RunEventStreams } from './sse.js';

export interface ApiDeps {
  services: Services;
  streams: RunEventStreams;
  pollAfterMs: number;
}
