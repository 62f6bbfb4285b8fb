/**
 * A table row's delete button: asks first, then deletes through the view's action (which shows a
 * failure above the table) and reloads the list.
 */
export function RemoveButton({ label = 'Delete', what, run, remove, reload }: {
  label?: string;
  what: string;
  run: (action: () => Promise<unknown>) => Promise<boolean>;
  remove: () => Promise<unknown>;
  reload: () => Promise<void>;
}) {
  return (
    <button class="secondary outline small" onClick={() => void run(async () => {
      if (!confirm(`${label} ${what}?`)) return;
      await remove();
      await reload();
    })}>{label}</button>
  );
}
