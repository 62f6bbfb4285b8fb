import type { ModelEvent } from './chat-model.js';

/** One streamed piece of a tool call, as servers send it: any of its fields may be missing. */
export interface ToolCallPiece {
  index?: number | undefined;
  id?: string | undefined;
  name?: string | undefined;
  arguments?: string | undefined;
}

/**
 * Puts streamed tool-call pieces back together the way real servers split them: by id when the
 * server gives ids (Ollama sends parallel calls all at `index` 0, with distinct ids), by index
 * otherwise, and a piece with neither continues the latest call. A new call starts with its name,
 * so a nameless piece with an unseen id continues the call at its index (some servers send a fresh
 * id with every piece). A name is a call's once: servers that repeat it in every piece do not make
 * `get_weatherget_weather`.
 */
export class ToolCallAssembler {
  readonly #byId = new Map<string, number>();
  readonly #byIndex = new Map<number, number>();
  readonly #named = new Set<number>();
  #count = 0;

  accept(piece: ToolCallPiece): Extract<ModelEvent, { type: 'tool-call-delta' }> {
    const id = piece.id || undefined;
    let position = id !== undefined ? this.#byId.get(id) : undefined;
    if (position === undefined && (id === undefined || !piece.name)) {
      position = piece.index !== undefined ? this.#byIndex.get(piece.index) : this.#count > 0 ? this.#count - 1 : undefined;
    }
    const opens = position === undefined;
    position ??= this.#count++;
    if (id !== undefined && !this.#byId.has(id)) this.#byId.set(id, position);
    if (piece.index !== undefined) this.#byIndex.set(piece.index, position);
    const name = piece.name && !this.#named.has(position) ? piece.name : undefined;
    if (name) this.#named.add(position);
    return {
      type: 'tool-call-delta',
      index: position,
      ...(opens && id !== undefined && { id }),
      ...(name && { name }),
      ...(piece.arguments && { argumentsDelta: piece.arguments }),
    };
  }
}
