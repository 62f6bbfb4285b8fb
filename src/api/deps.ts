import type { EventBus } from '../events.js';
import type { Services } from '../services/index.js';

export interface ApiDeps {
  services: Services;
  bus: EventBus;
  pollAfterMs: number;
}
