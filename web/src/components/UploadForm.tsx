import type OpenAI from 'openai';
import { useState } from 'preact/hooks';
import { useAction } from '../hooks';
import { uploadFile } from '../upload';
import { ErrorBox } from './ErrorBox';

/** Picks files and uploads them one by one with a progress bar; `onUploaded` gets each file made. */
export function UploadForm({ label = 'Upload', withPurpose = false, onUploaded }: {
  label?: string;
  withPurpose?: boolean;
  onUploaded: (file: OpenAI.FileObject) => Promise<unknown> | void;
}) {
  const [files, setFiles] = useState<File[]>([]);
  const [purpose, setPurpose] = useState<'assistants' | 'vision'>('assistants');
  const [progress, setProgress] = useState<{ name: string; fraction: number }>();
  const action = useAction();
  return (
    <form
      class="upload-form"
      onSubmit={(event) => {
        event.preventDefault();
        const form = event.currentTarget;
        void action.run(async () => {
          for (const file of files) {
            const made = await uploadFile(file, purpose, (fraction) => setProgress({ name: file.name, fraction }));
            await onUploaded(made);
          }
          setFiles([]);
          setProgress(undefined);
          form.reset();
        });
      }}
    >
      <div class="inline-form">
        <input type="file" name="file" multiple onChange={(event) => setFiles([...(event.currentTarget.files ?? [])])} />
        {withPurpose && (
          <select name="purpose" value={purpose} onChange={(event) => setPurpose(event.currentTarget.value as typeof purpose)}>
            <option value="assistants">assistants</option>
            <option value="vision">vision</option>
          </select>
        )}
        <button type="submit" disabled={files.length === 0 || action.busy} aria-busy={action.busy}>{label}</button>
      </div>
      {progress && (
        <label class="upload-progress">
          <small>{progress.name}: {Math.round(progress.fraction * 100)} %</small>
          <progress value={progress.fraction} max={1} />
        </label>
      )}
      <ErrorBox error={action.error} />
    </form>
  );
}
