import type { Conversation, Message, Run } from '../conversation';
import { ErrorBox } from './ErrorBox';
import { MessageView } from './MessageView';
import { RunTimeline } from './RunTimeline';

type Item = { kind: 'message'; value: Message } | { kind: 'run'; value: Run };

/** Ids end in a ULID, so within one second they still sort by creation. */
function creationOrder(a: Item, b: Item): number {
  const suffix = (id: string) => id.slice(id.lastIndexOf('_') + 1);
  return a.value.created_at - b.value.created_at || suffix(a.value.id).localeCompare(suffix(b.value.id));
}

/** The messages in order, and between them each run as a timeline of its steps. */
export function ConversationView({ conversation }: { conversation: Conversation }) {
  const { state, follow, reload, error } = conversation;
  const items: Item[] = [
    ...state.messages.map((value) => ({ kind: 'message' as const, value })),
    ...state.runs.map((value) => ({ kind: 'run' as const, value })),
  ].sort(creationOrder);
  return (
    <div class="conversation">
      <ErrorBox error={error} onRetry={() => void reload()} />
      {items.map((item) =>
        item.kind === 'message' ? (
          <MessageView key={item.value.id} message={item.value} />
        ) : (
          <RunTimeline key={item.value.id} run={item.value} steps={state.steps[item.value.id] ?? []} follow={follow} onChanged={() => void reload()} />
        ),
      )}
    </div>
  );
}
