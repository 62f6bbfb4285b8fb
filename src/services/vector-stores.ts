import type { ServiceContext } from './context.js';

export class VectorStores {
  constructor(readonly ctx: ServiceContext) {}
}
