import type { Services } from '../services/index.js';
import type { Authenticator } from './auth.js';
import type { RunEventStreams } from './sse.js';

export interface ApiDeps {
  services: Services;
  auth: Authenticator;
  streams: RunEventStreams;
}
