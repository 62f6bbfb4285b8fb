import { useState } from 'preact/hooks';
import { storedKey, storeKey } from '../api';

/** Asks for the API key; it goes to localStorage, and the page reloads its data with it. */
export function KeyForm({ onSaved }: { onSaved?: () => void }) {
  const [key, setKey] = useState(storedKey());
  return (
    <form
      class="key-form"
      onSubmit={(event) => {
        event.preventDefault();
        storeKey(key.trim());
        onSaved?.();
      }}
    >
      <label>
        API key
        <input
          type="password"
          name="api-key"
          autocomplete="off"
          placeholder="sk-proj-…"
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        <small>Kept in this browser's storage; every view shows only this key's project.</small>
      </label>
      <button type="submit">Use this key</button>
    </form>
  );
}
