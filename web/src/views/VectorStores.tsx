import type OpenAI from 'openai';
import { useState } from 'preact/hooks';
import { api, listAll } from '../api';
import { ErrorBox } from '../components/ErrorBox';
import { FileName } from '../components/FileName';
import { RemoveButton } from '../components/RemoveButton';
import { SearchResults } from '../components/SearchResults';
import { Status } from '../components/Status';
import { UploadForm } from '../components/UploadForm';
import { formatBytes, formatTime } from '../format';
import { useAction, useInterval, useLoad } from '../hooks';
import { href } from '../router';

type VectorStore = OpenAI.VectorStores.VectorStore;

function Counts({ counts }: { counts: VectorStore['file_counts'] }) {
  return (
    <span class="counts">
      {counts.completed} completed · {counts.in_progress} in progress · {counts.failed} failed{counts.cancelled ? ` · ${counts.cancelled} cancelled` : ''} · {counts.total} total
    </span>
  );
}

/** Ingestion runs in the background: views poll while a store still has files in progress. */
const POLL_MS = 1000;

export function VectorStoresView() {
  const loaded = useLoad(() => listAll(api().vectorStores.list({ limit: 100 })), []);
  const [name, setName] = useState('');
  const create = useAction();
  useInterval(() => void loaded.reload(), POLL_MS, (loaded.data ?? []).some((store) => store.status === 'in_progress'));
  return (
    <section>
      <h2>Vector stores</h2>
      <form class="inline-form" onSubmit={(event) => {
        event.preventDefault();
        void create.run(async () => {
          await api().vectorStores.create({ name });
          setName('');
          await loaded.reload();
        });
      }}>
        <input name="vector-store-name" placeholder="name" required value={name} onInput={(event) => setName(event.currentTarget.value)} />
        <button type="submit" aria-busy={create.busy}>Create vector store</button>
      </form>
      <ErrorBox error={loaded.error ?? create.error} onRetry={() => void loaded.reload()} />
      <div class="table-scroll">
        <table class="striped">
          <thead><tr><th>name</th><th>status</th><th>files</th><th class="hide-phone">size</th><th class="hide-phone">created</th></tr></thead>
          <tbody>
            {(loaded.data ?? []).map((store) => (
              <tr data-vector-store-id={store.id}>
                <td><a href={href('vector-stores', store.id)}>{store.name || store.id}</a></td>
                <td><Status status={store.status} /></td>
                <td><Counts counts={store.file_counts} /></td>
                <td class="hide-phone">{formatBytes(store.usage_bytes)}</td>
                <td class="hide-phone">{formatTime(store.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {loaded.data?.length === 0 && <p><small>No vector stores yet.</small></p>}
    </section>
  );
}

function SearchBox({ storeId }: { storeId: string }) {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<OpenAI.VectorStores.VectorStoreSearchResponse[]>();
  const search = useAction();
  return (
    <article class="search-box">
      <h3>Search</h3>
      <form class="inline-form" onSubmit={(event) => {
        event.preventDefault();
        void search.run(async () => setResults((await api().vectorStores.search(storeId, { query, max_num_results: 10 })).data));
      }}>
        <input type="search" name="search" placeholder="Search this store" required value={query} onInput={(event) => setQuery(event.currentTarget.value)} />
        <button type="submit" aria-busy={search.busy}>Search</button>
      </form>
      <ErrorBox error={search.error} />
      {results && results.length === 0 && <p><small>No chunk matches.</small></p>}
      {results && results.length > 0 && (
        <SearchResults results={results.map((result) => ({ fileId: result.file_id, fileName: result.filename, score: result.score, passages: result.content.map((piece) => piece.text) }))} />
      )}
    </article>
  );
}

export function VectorStoreView({ storeId }: { storeId: string }) {
  const loaded = useLoad(async () => {
    const [store, files] = await Promise.all([api().vectorStores.retrieve(storeId), listAll(api().vectorStores.files.list(storeId, { limit: 100 }))]);
    return { store, files };
  }, [storeId]);
  const remove = useAction();
  const store = loaded.data?.store;
  useInterval(() => void loaded.reload(), POLL_MS, store?.status === 'in_progress' || (loaded.data?.files ?? []).some((file) => file.status === 'in_progress'));
  return (
    <section>
      <p><a href={href('vector-stores')}>← Vector stores</a></p>
      <h2>{store?.name || storeId}</h2>
      <ErrorBox error={loaded.error ?? remove.error} onRetry={() => void loaded.reload()} />
      {store && <p class="store-summary"><Status status={store.status} /> <Counts counts={store.file_counts} /> · {formatBytes(store.usage_bytes)}</p>}
      <UploadForm label="Upload and add" onUploaded={async (file) => {
        await api().vectorStores.files.create(storeId, { file_id: file.id });
        await loaded.reload();
      }} />
      <div class="table-scroll">
        <table class="striped">
          <thead><tr><th>file</th><th>status</th><th class="hide-phone">size</th><th class="hide-phone">added</th><th /></tr></thead>
          <tbody>
            {(loaded.data?.files ?? []).map((file) => (
              <tr data-file-id={file.id} data-status={file.status}>
                <td><FileName fileId={file.id} /><br /><small class="hide-phone"><code>{file.id}</code></small></td>
                <td><Status status={file.status} />{file.last_error && <div class="error-message">{file.last_error.code}: {file.last_error.message}</div>}</td>
                <td class="hide-phone">{formatBytes(file.usage_bytes)}</td>
                <td class="hide-phone">{formatTime(file.created_at)}</td>
                <td class="actions">
                  <RemoveButton label="Remove" what={`${file.id} from this store`} run={remove.run} remove={() => api().vectorStores.files.delete(file.id, { vector_store_id: storeId })} reload={loaded.reload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <SearchBox storeId={storeId} />
    </section>
  );
}
