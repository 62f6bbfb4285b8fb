import { api, listAll } from '../api';
import { ErrorBox } from '../components/ErrorBox';
import { FileDownload } from '../components/FileContent';
import { RemoveButton } from '../components/RemoveButton';
import { Status } from '../components/Status';
import { UploadForm } from '../components/UploadForm';
import { formatBytes, formatTime } from '../format';
import { useAction, useLoad } from '../hooks';

export function FilesView() {
  const loaded = useLoad(() => listAll(api().files.list({ limit: 100, order: 'desc' })), []);
  const remove = useAction();
  return (
    <section>
      <h2>Files</h2>
      <UploadForm withPurpose onUploaded={() => loaded.reload()} />
      <ErrorBox error={loaded.error ?? remove.error} onRetry={() => void loaded.reload()} />
      <div class="table-scroll">
        <table class="striped">
          <thead><tr><th>file</th><th class="hide-phone">purpose</th><th>size</th><th>status</th><th class="hide-phone">created</th><th /></tr></thead>
          <tbody>
            {(loaded.data ?? []).map((file) => (
              <tr data-file-id={file.id}>
                <td><FileDownload fileId={file.id} label={file.filename} /><br /><small class="hide-phone"><code>{file.id}</code></small></td>
                <td class="hide-phone">{file.purpose}</td>
                <td>{formatBytes(file.bytes)}</td>
                <td><Status status={file.status} /></td>
                <td class="hide-phone">{formatTime(file.created_at)}</td>
                <td class="actions">
                  <RemoveButton what={file.filename} run={remove.run} remove={() => api().files.delete(file.id)} reload={loaded.reload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {loaded.data?.length === 0 && <p><small>No files yet.</small></p>}
    </section>
  );
}
