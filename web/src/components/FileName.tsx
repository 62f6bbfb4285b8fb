import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';

const names = new Map<string, Promise<string>>();

/** A file's name, looked up once per page; a deleted file shows its id. */
export function fileName(fileId: string): Promise<string> {
  let name = names.get(fileId);
  if (!name) {
    name = api().files.retrieve(fileId).then((file) => file.filename, () => fileId);
    names.set(fileId, name);
  }
  return name;
}

export function FileName({ fileId }: { fileId: string }) {
  const [name, setName] = useState<string>();
  useEffect(() => void fileName(fileId).then(setName), [fileId]);
  return <span class="file-name" title={fileId}>{name ?? fileId}</span>;
}
