import type OpenAI from 'openai';
import type { Message } from '../conversation';
import { formatTime } from '../format';
import { FileDownload, FileImage } from './FileContent';
import { FileName } from './FileName';

type Text = OpenAI.Beta.Threads.Text;
type Annotation = OpenAI.Beta.Threads.Annotation;

const QUOTE_CHARS = 280;

/** Text with its annotations: citations become numbered marks with a note below, file paths download links. */
function AnnotatedText({ text, quotes }: { text: Text; quotes: Map<string, string> }) {
  const annotations = [...text.annotations].sort((a, b) => a.start_index - b.start_index);
  const pieces = [];
  const citations: OpenAI.Beta.Threads.FileCitationAnnotation[] = [];
  let at = 0;
  annotations.forEach((annotation: Annotation, index) => {
    if (annotation.start_index < at) return;
    pieces.push(text.value.slice(at, annotation.start_index));
    if (annotation.type === 'file_citation') {
      citations.push(annotation);
      pieces.push(<sup class="citation-mark" title={annotation.text}>[{citations.length}]</sup>);
    } else {
      const label = annotation.text.split('/').pop() ?? annotation.text;
      pieces.push(<FileDownload key={index} fileId={annotation.file_path.file_id} label={label} />);
    }
    at = annotation.end_index;
  });
  pieces.push(text.value.slice(at));
  return (
    <>
      <div class="message-text">{pieces}</div>
      {citations.length > 0 && (
        <ol class="citations">
          {citations.map((citation) => {
            const quote = (citation.file_citation as { quote?: string }).quote ?? quotes.get(citation.file_citation.file_id);
            return (
              <li class="citation">
                <FileName fileId={citation.file_citation.file_id} />
                {quote && <q>{quote.length > QUOTE_CHARS ? `${quote.slice(0, QUOTE_CHARS)}…` : quote}</q>}
              </li>
            );
          })}
        </ol>
      )}
    </>
  );
}

/** `quotes`: passages the message's run found, by file id, for citations that carry no quote of their own. */
export function MessageView({ message, quotes }: { message: Message; quotes: Map<string, string> }) {
  return (
    <article class={`message message-${message.role}`} data-message-id={message.id} data-status={message.status}>
      <header>
        <strong>{message.role}</strong>
        <small>{formatTime(message.created_at)}{message.status && message.status !== 'completed' ? ` · ${message.status}` : ''}</small>
      </header>
      {message.content.map((part) => {
        switch (part.type) {
          case 'text':
            return <AnnotatedText text={part.text} quotes={quotes} />;
          case 'image_file':
            return <FileImage fileId={part.image_file.file_id} />;
          case 'image_url':
            return <img class="inline-image" src={part.image_url.url} alt="" />;
          default:
            return <p>{part.type === 'refusal' ? part.refusal : ''}</p>;
        }
      })}
      {(message.attachments ?? []).length > 0 && (
        <footer class="attachments">
          Attached:{' '}
          {message.attachments!.map((attachment) => attachment.file_id && <FileDownload fileId={attachment.file_id} />)}
        </footer>
      )}
    </article>
  );
}
