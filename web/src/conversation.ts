import type OpenAI from 'openai';
import type { AssistantStream } from 'openai/lib/AssistantStream';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, FILE_SEARCH_CONTENT, listAll } from './api';
import { useInterval } from './hooks';

export type Thread = OpenAI.Beta.Thread;
export type Message = OpenAI.Beta.Threads.Message;
export type Run = OpenAI.Beta.Threads.Run;
export type RunStep = OpenAI.Beta.Threads.Runs.RunStep;
type StreamEvent = OpenAI.Beta.AssistantStreamEvent;

/** A thread with everything the console shows of it: messages, runs, and each run's steps. */
export interface ThreadState {
  thread: Thread | undefined;
  messages: Message[];
  runs: Run[];
  steps: Record<string, RunStep[]>;
}

const EMPTY: ThreadState = { thread: undefined, messages: [], runs: [], steps: {} };
const ACTIVE = new Set(['queued', 'in_progress', 'cancelling']);

export function isActive(run: Run): boolean {
  return ACTIVE.has(run.status);
}

export async function loadThread(threadId: string): Promise<ThreadState> {
  const client = api();
  const [thread, messages, runs] = await Promise.all([
    client.beta.threads.retrieve(threadId),
    listAll(client.beta.threads.messages.list(threadId, { order: 'asc', limit: 100 })),
    listAll(client.beta.threads.runs.list(threadId, { order: 'asc', limit: 100 })),
  ]);
  const stepLists = await Promise.all(
    runs.map((run) => listAll(client.beta.threads.runs.steps.list(run.id, { thread_id: threadId, order: 'asc', limit: 100, include: [FILE_SEARCH_CONTENT] }))),
  );
  return { thread, messages, runs, steps: Object.fromEntries(runs.map((run, index) => [run.id, stepLists[index]!])) };
}

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  const index = list.findIndex((existing) => existing.id === item.id);
  return index < 0 ? [...list, item] : list.map((existing, i) => (i === index ? item : existing));
}

/** Appends a message delta's text (and annotations) to the message being streamed. */
function withDelta(message: Message, delta: OpenAI.Beta.Threads.MessageDelta): Message {
  const content = [...message.content];
  for (const part of delta.content ?? []) {
    if (part.type !== 'text') continue;
    const existing = content[part.index];
    const text = existing?.type === 'text' ? existing.text : { value: '', annotations: [] };
    content[part.index] = {
      type: 'text',
      text: { value: text.value + (part.text?.value ?? ''), annotations: [...text.annotations, ...((part.text?.annotations ?? []) as typeof text.annotations)] },
    };
  }
  return { ...message, content };
}

/** The state after one event of a run's stream: the same objects the API would list, as they happen. */
export function applyEvent(state: ThreadState, event: StreamEvent): ThreadState {
  switch (event.event) {
    case 'thread.created':
      return { ...state, thread: event.data };
    case 'thread.message.delta':
      return { ...state, messages: state.messages.map((message) => (message.id === event.data.id ? withDelta(message, event.data.delta) : message)) };
    case 'thread.run.step.delta':
    case 'error':
      return state;
  }
  if (event.event.startsWith('thread.run.step.')) {
    const step = event.data as RunStep;
    return { ...state, steps: { ...state.steps, [step.run_id]: upsert(state.steps[step.run_id] ?? [], step) } };
  }
  if (event.event.startsWith('thread.message.')) return { ...state, messages: upsert(state.messages, event.data as Message) };
  if (event.event.startsWith('thread.run.')) {
    const run = event.data as Run;
    return { ...state, runs: upsert(state.runs, run), steps: { [run.id]: [], ...state.steps } };
  }
  return state;
}

export interface Conversation {
  state: ThreadState;
  threadId: string | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  /** Shows a run's stream as it arrives; resolves when it ends. */
  follow: (stream: AssistantStream) => Promise<void>;
  reset: () => void;
}

/**
 * A thread kept current: from the run stream while this console drives a run, by polling while a
 * run someone else started is active (the API has no stream to attach to an existing run).
 */
export function useConversation(initialThreadId: string | undefined): Conversation {
  const [threadId, setThreadId] = useState(initialThreadId);
  const [state, setState] = useState<ThreadState>(EMPTY);
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(initialThreadId !== undefined);
  const [streaming, setStreaming] = useState(0);
  const current = useRef(threadId);
  current.current = threadId;
  // A thread the stream made is already in `state`; loading it afresh would race the stream.
  const madeByStream = useRef<string | undefined>(undefined);

  useEffect(() => setThreadId(initialThreadId), [initialThreadId]);

  const reload = useCallback(async () => {
    const id = current.current;
    if (!id) return;
    try {
      const loaded = await loadThread(id);
      if (current.current === id) {
        setState(loaded);
        setError(undefined);
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    if (threadId && threadId === madeByStream.current) return;
    setState(EMPTY);
    if (threadId) {
      setLoading(true);
      void reload();
    }
  }, [threadId]);

  const follow = useCallback(async (stream: AssistantStream) => {
    setStreaming((count) => count + 1);
    setError(undefined);
    stream.on('event', (event) => {
      if (event.event === 'thread.created') {
        current.current = madeByStream.current = event.data.id;
        setThreadId(event.data.id);
      }
      setState((previous) => applyEvent(previous, event));
    });
    try {
      await stream.done();
    } catch (failure) {
      setError(failure);
    } finally {
      setStreaming((count) => count - 1);
      await reload();
    }
  }, []);

  useInterval(() => void reload(), 1000, streaming === 0 && state.runs.some(isActive));

  return {
    state,
    threadId,
    error,
    loading,
    reload,
    follow,
    reset: () => {
      current.current = undefined;
      setThreadId(undefined);
      setState(EMPTY);
      setError(undefined);
    },
  };
}
