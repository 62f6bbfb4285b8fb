import type { Conversation, Message, Run, RunStep } from '../conversation';
import { ErrorBox } from './ErrorBox';
import { MessageView } from './MessageView';
import { RunTimeline } from './RunTimeline';

type Item = { kind: 'message'; value: Message } | { kind: 'run'; value: Run };

/**
 * The messages in their order, each run just before the first message it wrote, or (a run that
 * wrote none yet) after the messages it could read. Ids do not order runs among messages: a
 * streamed create-thread-and-run picks the run's id before the thread's messages exist.
 */
function interleave(messages: Message[], runs: Run[]): Item[] {
  const items: Item[] = messages.map((value) => ({ kind: 'message', value }));
  for (const run of runs) {
    const written = items.findIndex((item) => item.kind === 'message' && item.value.run_id === run.id);
    const position = written >= 0 ? written : items.findLastIndex((item) => item.value.created_at <= run.created_at) + 1;
    items.splice(position, 0, { kind: 'run', value: run });
  }
  return items;
}

/** For citations: the first passage of each file that a run's file_search steps returned. */
function passagesByFile(steps: RunStep[] | undefined): Map<string, string> {
  const passages = new Map<string, string>();
  for (const step of steps ?? []) {
    if (step.step_details.type !== 'tool_calls') continue;
    for (const call of step.step_details.tool_calls) {
      if (call.type !== 'file_search') continue;
      for (const result of call.file_search.results ?? []) {
        const text = result.content?.map((piece) => piece.text ?? '').join('');
        if (text && !passages.has(result.file_id)) passages.set(result.file_id, text);
      }
    }
  }
  return passages;
}

/** The messages in order, and between them each run as a timeline of its steps. */
export function ConversationView({ conversation }: { conversation: Conversation }) {
  const { state, follow, reload, error } = conversation;
  return (
    <div class="conversation">
      <ErrorBox error={error} onRetry={() => void reload()} />
      {interleave(state.messages, state.runs).map((item) =>
        item.kind === 'message' ? (
          <MessageView key={item.value.id} message={item.value} quotes={passagesByFile(item.value.run_id ? state.steps[item.value.run_id] : undefined)} />
        ) : (
          <RunTimeline key={item.value.id} run={item.value} steps={state.steps[item.value.id] ?? []} follow={follow} onChanged={() => void reload()} />
        ),
      )}
    </div>
  );
}
