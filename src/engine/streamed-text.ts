import type { MessageContent } from '../spec/wire.js';

type Text = Extract<MessageContent, { type: 'text' }>['text'];
export type TextAnnotation = Text['annotations'][number];

/** Finds the annotations of an answer's text (file_search citations, links to files the code made). */
export interface Annotator {
  /** The annotations in `text`, by start_index. */
  annotate(text: string): TextAnnotation[];
  /** Where an annotation that more text could still complete begins, at the end of `text`; undefined when none does. */
  openAnnotationStart(text: string): number | undefined;
}

/** Text that clients may be shown, with the annotations it completes, numbered as in the whole message. */
export interface TextRelease {
  value: string;
  annotations: (TextAnnotation & { index: number })[];
}

/**
 * The text of a message as the model streams it. It is released to clients only up to where an
 * annotation may still be open, so that a citation marker or a link split over several model
 * deltas goes out whole, in one delta, with its annotation. The message keeps exactly what was
 * released, so the deltas and the stored message never disagree.
 */
export class StreamedText {
  #received = '';
  #value = '';
  readonly #annotations: TextAnnotation[] = [];

  constructor(readonly annotator: Annotator) {}

  /** Everything the model sent, released or not. */
  get received(): string {
    return this.#received;
  }

  /** The message's text so far: what clients were sent. */
  get released(): Text {
    return { value: this.#value, annotations: [...this.#annotations] };
  }

  push(piece: string): TextRelease {
    this.#received += piece;
    return this.#release(false);
  }

  /** The model is done: what was held back goes out, complete or not. */
  end(): TextRelease {
    return this.#release(true);
  }

  #release(final: boolean): TextRelease {
    const offset = this.#value.length;
    const pending = this.#received.slice(offset);
    let end = (final ? undefined : this.annotator.openAnnotationStart(pending)) ?? pending.length;
    const found = this.annotator.annotate(pending);
    // An annotation the cut would split waits, whole, for a later release.
    for (const annotation of found.toReversed()) {
      if (annotation.start_index < end && annotation.end_index > end) end = annotation.start_index;
    }
    const completed = found
      .filter((annotation) => annotation.end_index <= end)
      .map((annotation) => ({ ...annotation, start_index: annotation.start_index + offset, end_index: annotation.end_index + offset }));
    const annotations = completed.map((annotation, position) => ({ index: this.#annotations.length + position, ...annotation }));
    const value = pending.slice(0, end);
    this.#value += value;
    this.#annotations.push(...completed);
    return { value, annotations };
  }
}
