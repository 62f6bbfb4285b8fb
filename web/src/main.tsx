import '@picocss/pico/css/pico.min.css';
import 'highlight.js/styles/github.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { KEY_CHANGED, storedKey } from './api';
import { ErrorBoundary } from './components/ErrorBoundary';
import { KeyForm } from './components/KeyForm';
import { href, useRoute } from './router';
import { AssistantsView, AssistantView } from './views/Assistants';
import { FilesView } from './views/Files';
import { PlaygroundView } from './views/Playground';
import { ThreadsView, ThreadView } from './views/Threads';
import { VectorStoresView, VectorStoreView } from './views/VectorStores';

const SECTIONS = [
  ['threads', 'Threads'],
  ['playground', 'Playground'],
  ['assistants', 'Assistants'],
  ['files', 'Files'],
  ['vector-stores', 'Vector stores'],
] as const;

function Page({ route }: { route: string[] }) {
  const [section = 'threads', id] = route;
  switch (section) {
    case 'threads':
      return id ? <ThreadView threadId={id} /> : <ThreadsView />;
    case 'playground':
      return <PlaygroundView assistantId={id} />;
    case 'assistants':
      return id ? <AssistantView assistantId={id} /> : <AssistantsView />;
    case 'files':
      return <FilesView />;
    case 'vector-stores':
      return id ? <VectorStoreView storeId={id} /> : <VectorStoresView />;
    default:
      return <p class="error-box" role="alert">No page here. <a href={href('threads')}>Go to the threads.</a></p>;
  }
}

function App() {
  const route = useRoute();
  const [keyVersion, setKeyVersion] = useState(0);
  const [askingKey, setAskingKey] = useState(false);
  useEffect(() => {
    const onKey = () => {
      setKeyVersion((version) => version + 1);
      setAskingKey(false);
    };
    addEventListener(KEY_CHANGED, onKey);
    return () => removeEventListener(KEY_CHANGED, onKey);
  }, []);
  const section = route[0] ?? 'threads';
  return (
    <>
      <header class="container-fluid top-bar">
        <nav>
          <ul><li><a href={href('threads')} class="brand"><strong>Stepwise</strong></a></li></ul>
          <ul class="sections">
            {SECTIONS.map(([path, label]) => (
              <li><a href={href(path)} aria-current={section === path ? 'page' : undefined}>{label}</a></li>
            ))}
            <li><button class="secondary outline small" onClick={() => setAskingKey(!askingKey)}>{storedKey() ? 'API key ✓' : 'API key'}</button></li>
          </ul>
        </nav>
      </header>
      <main class="container">
        {askingKey && <article><KeyForm /></article>}
        <ErrorBoundary key={`${keyVersion} ${route.join('/')}`}>
          <Page key={keyVersion} route={route} />
        </ErrorBoundary>
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
