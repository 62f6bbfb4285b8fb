import type OpenAI from 'openai';
import type { AssistantStream } from 'openai/lib/AssistantStream';
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { Run, RunStep } from '../conversation';
import { formatDuration, formatTime } from '../format';
import { useAction } from '../hooks';
import { ErrorBox } from './ErrorBox';
import { Status } from './Status';
import { ToolCallView } from './ToolCallView';

function Usage({ usage }: { usage: OpenAI.Beta.Threads.Runs.RunStep.Usage | Run['usage'] }) {
  if (!usage) return null;
  return (
    <span class="usage" data-usage={usage.total_tokens}>
      {usage.prompt_tokens} prompt + {usage.completion_tokens} completion = {usage.total_tokens} tokens
    </span>
  );
}

function LastError({ error }: { error: { code: string; message: string } | null }) {
  return error ? <p class="error-message last-error">{error.code}: {error.message}</p> : null;
}

function StepView({ step }: { step: RunStep }) {
  const end = step.completed_at ?? step.failed_at ?? step.cancelled_at ?? step.expired_at;
  return (
    <li class="step" data-step-type={step.type} data-status={step.status}>
      <div class="step-head">
        <strong>{step.type === 'tool_calls' ? 'tool calls' : 'message creation'}</strong>
        <Status status={step.status} />
        <small>{formatTime(step.created_at)} · {formatDuration(step.created_at, end)}</small>
        <Usage usage={step.usage} />
      </div>
      <LastError error={step.last_error} />
      {step.step_details.type === 'message_creation' ? (
        <small>message {step.step_details.message_creation.message_id}</small>
      ) : (
        step.step_details.tool_calls.map((call) => <ToolCallView call={call} />)
      )}
    </li>
  );
}

/** The form for a run in `requires_action`: one output per requested call, submitted by hand. */
function ToolOutputsForm({ run, follow }: { run: Run; follow: (stream: AssistantStream) => Promise<void> }) {
  const calls = run.required_action?.submit_tool_outputs.tool_calls ?? [];
  const [outputs, setOutputs] = useState<Record<string, string>>({});
  const action = useAction();
  return (
    <form
      class="tool-outputs-form"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(() =>
          follow(api().beta.threads.runs.submitToolOutputsStream(run.id, {
            thread_id: run.thread_id,
            tool_outputs: calls.map((call) => ({ tool_call_id: call.id, output: outputs[call.id] ?? '' })),
          })),
        );
      }}
    >
      <strong>The run waits for tool outputs</strong>
      {calls.map((call) => (
        <label>
          <code>{call.function.name}</code>(<code>{call.function.arguments}</code>)
          <textarea name={`output-${call.id}`} rows={2} placeholder="output" value={outputs[call.id] ?? ''} onInput={(event) => setOutputs({ ...outputs, [call.id]: event.currentTarget.value })} />
        </label>
      ))}
      <button type="submit" aria-busy={action.busy} disabled={action.busy}>Submit tool outputs</button>
      <ErrorBox error={action.error} />
    </form>
  );
}

const CANCELLABLE = new Set(['queued', 'in_progress', 'requires_action']);

export function RunTimeline({ run, steps, follow, onChanged }: {
  run: Run;
  steps: RunStep[];
  follow: (stream: AssistantStream) => Promise<void>;
  onChanged: () => void;
}) {
  const cancel = useAction();
  const end = run.completed_at ?? run.failed_at ?? run.cancelled_at ?? (run.status === 'expired' ? run.expires_at : null);
  return (
    <section class="run" data-run-id={run.id} data-status={run.status}>
      <div class="run-head">
        <strong>run</strong> <code>{run.id}</code> <Status status={run.status} />
        <small>{run.model} · started {formatTime(run.started_at ?? run.created_at)} · {formatDuration(run.started_at ?? run.created_at, end)}</small>
        <Usage usage={run.usage} />
        {CANCELLABLE.has(run.status) && (
          <button class="secondary outline small" aria-busy={cancel.busy} onClick={() => void cancel.run(async () => {
            await api().beta.threads.runs.cancel(run.id, { thread_id: run.thread_id });
            onChanged();
          })}>Cancel run</button>
        )}
      </div>
      <LastError error={run.last_error} />
      {run.incomplete_details && <p><small>incomplete: {run.incomplete_details.reason}</small></p>}
      <ErrorBox error={cancel.error} />
      <ol class="steps">{steps.map((step) => <StepView step={step} />)}</ol>
      {run.status === 'requires_action' && <ToolOutputsForm key={run.id} run={run} follow={follow} />}
    </section>
  );
}
