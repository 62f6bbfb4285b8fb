import { api, listAll } from '../api';
import { ErrorBox } from '../components/ErrorBox';
import { RemoveButton } from '../components/RemoveButton';
import { formatTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { href, navigate } from '../router';
import { AssistantEditor } from './AssistantEditor';

export function AssistantsView() {
  const loaded = useLoad(() => listAll(api().beta.assistants.list({ limit: 100 })), []);
  const remove = useAction();
  return (
    <section>
      <div class="title-row">
        <h2>Assistants</h2>
        <a role="button" href={href('assistants', 'new')}>New assistant</a>
      </div>
      <ErrorBox error={loaded.error ?? remove.error} onRetry={() => void loaded.reload()} />
      <div class="table-scroll">
        <table class="striped">
          <thead><tr><th>name</th><th>model</th><th>tools</th><th class="hide-phone">created</th><th /></tr></thead>
          <tbody>
            {(loaded.data ?? []).map((assistant) => (
              <tr data-assistant-id={assistant.id}>
                <td><a href={href('assistants', assistant.id)}>{assistant.name || assistant.id}</a></td>
                <td>{assistant.model}</td>
                <td>{assistant.tools.map((tool) => (tool.type === 'function' ? tool.function.name : tool.type)).join(', ') || '—'}</td>
                <td class="hide-phone">{formatTime(assistant.created_at)}</td>
                <td class="actions">
                  <a href={href('playground', assistant.id)}>Chat</a>{' '}
                  <RemoveButton what={assistant.name || assistant.id} run={remove.run} remove={() => api().beta.assistants.delete(assistant.id)} reload={loaded.reload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {loaded.data?.length === 0 && <p><small>No assistants yet.</small></p>}
    </section>
  );
}

export function AssistantView({ assistantId }: { assistantId: string }) {
  const isNew = assistantId === 'new';
  const loaded = useLoad(async () => (isNew ? undefined : api().beta.assistants.retrieve(assistantId)), [assistantId]);
  return (
    <section>
      <p><a href={href('assistants')}>← Assistants</a></p>
      <h2>{isNew ? 'New assistant' : loaded.data?.name || assistantId}</h2>
      <ErrorBox error={loaded.error} onRetry={() => void loaded.reload()} />
      {(isNew || loaded.data) && <AssistantEditor key={assistantId} assistant={loaded.data} onSaved={() => navigate('assistants')} />}
    </section>
  );
}
