import { useEffect, useRef, useState } from 'preact/hooks';

/** A textarea holding JSON, checked as it is typed; `onValue` receives only parsed values. */
export function JsonField({ label, name, value, onValue, onValidity, rows = 8, hint }: {
  label: string;
  name: string;
  value: unknown;
  onValue: (value: unknown) => void;
  /** Told whether the text is JSON, so a form can refuse to save a value the text no longer shows. */
  onValidity: (valid: boolean) => void;
  rows?: number;
  hint?: string;
}) {
  const [text, setText] = useState(() => JSON.stringify(value, null, 2));
  const [problem, setProblem] = useState<string>();
  const emitted = useRef(JSON.stringify(value));
  const incoming = JSON.stringify(value);
  useEffect(() => {
    // Only a value from outside (another object loaded) replaces the text being edited.
    if (incoming === emitted.current) return;
    emitted.current = incoming;
    setText(JSON.stringify(value, null, 2));
    setProblem(undefined);
  }, [incoming]);
  return (
    <label>
      {label}
      <textarea
        class="code"
        name={name}
        rows={rows}
        spellcheck={false}
        aria-invalid={problem ? 'true' : undefined}
        value={text}
        onInput={(event) => {
          const next = event.currentTarget.value;
          setText(next);
          try {
            const parsed: unknown = JSON.parse(next);
            emitted.current = JSON.stringify(parsed);
            onValue(parsed);
            setProblem(undefined);
            onValidity(true);
          } catch (error) {
            setProblem(error instanceof Error ? error.message : 'not JSON');
            onValidity(false);
          }
        }}
      />
      <small>{problem ? `Not valid JSON: ${problem}` : hint}</small>
    </label>
  );
}
