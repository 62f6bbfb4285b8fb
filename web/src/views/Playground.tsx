import type OpenAI from 'openai';
import { useState } from 'preact/hooks';
import { api, FILE_SEARCH_CONTENT, listAll } from '../api';
import { ConversationView } from '../components/ConversationView';
import { ErrorBox } from '../components/ErrorBox';
import { UploadForm } from '../components/UploadForm';
import { useConversation } from '../conversation';
import { useAction, useLoad } from '../hooks';
import { href, navigate } from '../router';
import { AssistantEditor } from './AssistantEditor';

type Assistant = OpenAI.Beta.Assistant;

/** Files attached to a message go to the tool the assistant has: file_search first, else code_interpreter. */
function attachmentTools(assistant: Assistant): OpenAI.Beta.Threads.Message.Attachment['tools'] {
  if (assistant.tools.some((tool) => tool.type === 'code_interpreter') && !assistant.tools.some((tool) => tool.type === 'file_search')) return [{ type: 'code_interpreter' }];
  return [{ type: 'file_search' }];
}

export function PlaygroundView({ assistantId }: { assistantId: string | undefined }) {
  const assistants = useLoad(() => listAll(api().beta.assistants.list({ limit: 100 })), []);
  const assistant = assistants.data?.find((candidate) => candidate.id === assistantId) ?? (assistantId ? undefined : assistants.data?.[0]);
  const conversation = useConversation(undefined);
  const [text, setText] = useState('');
  const [attached, setAttached] = useState<OpenAI.FileObject[]>([]);
  const [editing, setEditing] = useState(false);
  const send = useAction();

  const submit = (event: Event) => {
    event.preventDefault();
    if (!assistant) return;
    const message = { role: 'user' as const, content: text, attachments: attached.map((file) => ({ file_id: file.id, tools: attachmentTools(assistant) })) };
    void send.run(async () => {
      const client = api();
      const threadId = conversation.threadId;
      setText('');
      setAttached([]);
      if (!threadId) {
        await conversation.follow(client.beta.threads.createAndRunStream({ assistant_id: assistant.id, thread: { messages: [message] } }));
        return;
      }
      await client.beta.threads.messages.create(threadId, message);
      await conversation.reload();
      await conversation.follow(client.beta.threads.runs.stream(threadId, { assistant_id: assistant.id, include: [FILE_SEARCH_CONTENT] }));
    });
  };

  return (
    <section class="playground">
      <h2>Playground</h2>
      <ErrorBox error={assistants.error} onRetry={() => void assistants.reload()} />
      <div class="inline-form">
        <select name="assistant" aria-label="Assistant" value={assistant?.id ?? ''} onChange={(event) => {
          conversation.reset();
          navigate('playground', event.currentTarget.value);
        }}>
          {(assistants.data ?? []).length === 0 && <option value="">no assistants</option>}
          {(assistants.data ?? []).map((candidate) => <option value={candidate.id}>{candidate.name || candidate.id} ({candidate.model})</option>)}
        </select>
        <button class="secondary outline" disabled={!assistant} onClick={() => setEditing(!editing)}>{editing ? 'Close editor' : 'Edit assistant'}</button>
        <button class="secondary outline" disabled={!conversation.threadId} onClick={() => conversation.reset()}>New chat</button>
      </div>
      {assistants.data?.length === 0 && <p>Create an assistant first: <a href={href('assistants', 'new')}>New assistant</a>.</p>}
      {editing && assistant && (
        <article>
          <AssistantEditor key={assistant.id} assistant={assistant} onSaved={() => {
            setEditing(false);
            void assistants.reload();
          }} />
        </article>
      )}
      {conversation.threadId && <p><small>thread <a href={href('threads', conversation.threadId)}><code>{conversation.threadId}</code></a></small></p>}
      <ConversationView conversation={conversation} />
      <form class="chat-form" onSubmit={submit}>
        <textarea name="message" rows={2} placeholder="Message the assistant" value={text} onInput={(event) => setText(event.currentTarget.value)} onKeyDown={(event) => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit(event);
        }} />
        {attached.length > 0 && <p><small>Attached: {attached.map((file) => file.filename).join(', ')}</small></p>}
        <button type="submit" disabled={!assistant || !text.trim() || send.busy} aria-busy={send.busy}>Send</button>
      </form>
      <details>
        <summary>Attach files</summary>
        <UploadForm label="Attach" onUploaded={(file) => setAttached((files) => [...files, file])} />
      </details>
      <ErrorBox error={send.error} />
    </section>
  );
}
