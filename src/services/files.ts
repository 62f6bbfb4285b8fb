import type { ServiceContext } from './context.js';

export class Files {
  constructor(readonly ctx: ServiceContext) {}
}
