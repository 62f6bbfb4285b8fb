import { describeError, isAuthError } from '../api';
import { KeyForm } from './KeyForm';

/** An API failure as a message (never a blank page); a 401 also asks for a key. */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (error === undefined || error === null) return null;
  return (
    <div class="error-box" role="alert">
      <strong>{isAuthError(error) ? 'This server needs a valid API key.' : 'The request failed.'}</strong>
      <p class="error-message">{describeError(error)}</p>
      {isAuthError(error) ? <KeyForm onSaved={onRetry} /> : onRetry && <button class="secondary outline" onClick={onRetry}>Retry</button>}
    </div>
  );
}
