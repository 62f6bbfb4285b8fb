import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorBox } from '../components/ErrorBox';
import { Status } from '../components/Status';
import { type Run, type Thread, useConversation } from '../conversation';
import { ConversationView } from '../components/ConversationView';
import { formatTime } from '../format';
import { useLoad } from '../hooks';
import { href } from '../router';

interface ThreadPage {
  data: Thread[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

const PAGE_SIZE = 20;

/** `GET /v1/threads` is Stepwise's extension (the SDK has no method for it), so it goes through the SDK's raw `get`. */
async function loadThreads(after: string | undefined, filter: { key: string; value: string }) {
  const query: Record<string, string | number> = { limit: PAGE_SIZE, order: 'desc' };
  if (after) query.after = after;
  if (filter.key) query[`metadata[${filter.key}]`] = filter.value;
  const page = await api().get<ThreadPage>('/threads', { query });
  const lastRuns = await Promise.all(page.data.map(async (thread) => (await api().beta.threads.runs.list(thread.id, { limit: 1, order: 'desc' })).data[0]));
  return { page, lastRuns };
}

function MetadataChips({ metadata }: { metadata: unknown }) {
  const entries = Object.entries((metadata ?? {}) as Record<string, string>);
  return <>{entries.length === 0 ? <small>—</small> : entries.map(([key, value]) => <span class="chip">{key}={value}</span>)}</>;
}

export function ThreadsView() {
  const [cursors, setCursors] = useState<string[]>([]);
  const [filter, setFilter] = useState({ key: '', value: '' });
  const [draft, setDraft] = useState(filter);
  const after = cursors.at(-1);
  const loaded = useLoad(() => loadThreads(after, filter), [after, filter]);
  const rows = loaded.data?.page.data ?? [];
  return (
    <section>
      <h2>Threads</h2>
      <form class="inline-form" onSubmit={(event) => {
        event.preventDefault();
        setCursors([]);
        setFilter(draft);
      }}>
        <input name="metadata-key" placeholder="metadata key" value={draft.key} onInput={(event) => setDraft({ ...draft, key: event.currentTarget.value })} />
        <input name="metadata-value" placeholder="value" value={draft.value} onInput={(event) => setDraft({ ...draft, value: event.currentTarget.value })} />
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={loaded.error} onRetry={() => void loaded.reload()} />
      <div class="table-scroll">
        <table class="striped">
          <thead><tr><th>thread</th><th>created</th><th>metadata</th><th>last run</th></tr></thead>
          <tbody>
            {rows.map((thread, index) => {
              const run: Run | undefined = loaded.data?.lastRuns[index];
              return (
                <tr data-thread-id={thread.id}>
                  <td><a href={href('threads', thread.id)}><code>{thread.id}</code></a></td>
                  <td>{formatTime(thread.created_at)}</td>
                  <td><MetadataChips metadata={thread.metadata} /></td>
                  <td>{run ? <Status status={run.status} /> : <small>no runs</small>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {!loaded.loading && rows.length === 0 && !loaded.error && <p><small>No threads{filter.key ? ' with that metadata' : ''}.</small></p>}
      <div class="pager">
        <button class="secondary outline" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>Newer</button>
        <button class="secondary outline" disabled={!loaded.data?.page.has_more} onClick={() => setCursors([...cursors, loaded.data!.page.last_id!])}>Older</button>
      </div>
    </section>
  );
}

export function ThreadView({ threadId }: { threadId: string }) {
  const conversation = useConversation(threadId);
  const thread = conversation.state.thread;
  return (
    <section>
      <p><a href={href('threads')}>← Threads</a></p>
      <h2><code>{threadId}</code></h2>
      {thread && <p><small>created {formatTime(thread.created_at)}</small> {Object.keys(thread.metadata ?? {}).length > 0 && <MetadataChips metadata={thread.metadata} />}</p>}
      {conversation.loading && !thread && <p aria-busy="true">Loading…</p>}
      <ConversationView conversation={conversation} />
    </section>
  );
}
