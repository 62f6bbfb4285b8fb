/** A status as a coloured badge; the colour says whether it is done, waiting, or failed. */
export function Status({ status }: { status: string | null | undefined }) {
  if (!status) return <span class="badge">—</span>;
  return <span class={`badge status-${status}`} data-status={status}>{status.replace(/_/g, ' ')}</span>;
}
