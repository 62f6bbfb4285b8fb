import type { ServiceContext } from './context.js';

export class Uploads {
  constructor(readonly ctx: ServiceContext) {}
}
