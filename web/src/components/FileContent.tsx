import { useEffect, useState } from 'preact/hooks';
import { api, describeError } from '../api';
import { FileName } from './FileName';

/** File bytes fetched through the SDK (the browser would not send the API key for a plain `src`). */
async function fileUrl(fileId: string): Promise<string> {
  const response = await api().files.content(fileId);
  return URL.createObjectURL(await response.blob());
}

export function FileImage({ fileId, alt }: { fileId: string; alt?: string }) {
  const [src, setSrc] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let url: string | undefined;
    fileUrl(fileId).then((made) => setSrc((url = made)), (failure) => setError(describeError(failure)));
    return () => url && URL.revokeObjectURL(url);
  }, [fileId]);
  if (error) return <span class="error-message">image {fileId}: {error}</span>;
  return src ? <img class="inline-image" src={src} alt={alt ?? fileId} /> : <span aria-busy="true">loading image…</span>;
}

/** A link that downloads a file's content under its name; without a label it shows the file's name. */
export function FileDownload({ fileId, label }: { fileId: string; label?: string }) {
  const [error, setError] = useState<string>();
  const download = async (event: Event) => {
    event.preventDefault();
    try {
      const [url, file] = await Promise.all([fileUrl(fileId), api().files.retrieve(fileId).catch(() => undefined)]);
      const anchor = document.createElement('a');
      anchor.href = url;
      anchor.download = file?.filename.split('/').pop() ?? fileId;
      anchor.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (failure) {
      setError(describeError(failure));
    }
  };
  return (
    <>
      <a href="#" class="file-download" data-file-id={fileId} onClick={download}>{label ?? <FileName fileId={fileId} />}</a>
      {error && <span class="error-message"> {error}</span>}
    </>
  );
}
