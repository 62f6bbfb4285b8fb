import type OpenAI from 'openai';
import { useState } from 'preact/hooks';
import { api, listAll } from '../api';
import { ErrorBox } from '../components/ErrorBox';
import { JsonField } from '../components/JsonField';
import { useAction, useLoad } from '../hooks';

type Assistant = OpenAI.Beta.Assistant;
type FunctionDefinition = OpenAI.FunctionDefinition;

const EXAMPLE_FUNCTION: FunctionDefinition = {
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

interface Draft {
  name: string;
  description: string;
  model: string;
  instructions: string;
  temperature: number;
  top_p: number;
  responseFormat: unknown;
  fileSearch: boolean;
  codeInterpreter: boolean;
  functions: unknown;
  vectorStoreIds: string[];
  codeFileIds: string[];
  metadata: unknown;
}

function draftOf(assistant: Assistant | undefined): Draft {
  const tools = assistant?.tools ?? [];
  return {
    name: assistant?.name ?? '',
    description: assistant?.description ?? '',
    model: assistant?.model ?? 'gpt-4o-mini',
    instructions: assistant?.instructions ?? '',
    temperature: assistant?.temperature ?? 1,
    top_p: assistant?.top_p ?? 1,
    responseFormat: assistant?.response_format ?? 'auto',
    fileSearch: tools.some((tool) => tool.type === 'file_search'),
    codeInterpreter: tools.some((tool) => tool.type === 'code_interpreter'),
    functions: tools.flatMap((tool) => (tool.type === 'function' ? [tool.function] : [])),
    vectorStoreIds: assistant?.tool_resources?.file_search?.vector_store_ids ?? [],
    codeFileIds: assistant?.tool_resources?.code_interpreter?.file_ids ?? [],
    metadata: assistant?.metadata ?? {},
  };
}

function functionsOf(value: unknown): FunctionDefinition[] {
  if (!Array.isArray(value)) throw new Error('Functions must be a JSON array of function definitions ({ "name", "description", "parameters" }).');
  return value as FunctionDefinition[];
}

function requestOf(draft: Draft): OpenAI.Beta.AssistantCreateParams {
  const tools: OpenAI.Beta.AssistantTool[] = [
    ...(draft.fileSearch ? [{ type: 'file_search' as const }] : []),
    ...(draft.codeInterpreter ? [{ type: 'code_interpreter' as const }] : []),
    ...functionsOf(draft.functions).map((definition) => ({ type: 'function' as const, function: definition })),
  ];
  return {
    model: draft.model,
    name: draft.name || null,
    description: draft.description || null,
    instructions: draft.instructions || null,
    temperature: draft.temperature,
    top_p: draft.top_p,
    response_format: draft.responseFormat as OpenAI.Beta.AssistantCreateParams['response_format'],
    tools,
    tool_resources: {
      file_search: { vector_store_ids: draft.fileSearch ? draft.vectorStoreIds : [] },
      code_interpreter: { file_ids: draft.codeInterpreter ? draft.codeFileIds : [] },
    },
    metadata: draft.metadata as Record<string, string>,
  };
}

function toggled(list: string[], id: string, on: boolean): string[] {
  return on ? [...list, id] : list.filter((existing) => existing !== id);
}

/** Creates an assistant, or edits one: every field of the API, function schemas as JSON. */
export function AssistantEditor({ assistant, onSaved }: { assistant?: Assistant; onSaved: (saved: Assistant) => void }) {
  const [draft, setDraft] = useState(() => draftOf(assistant));
  const set = (change: Partial<Draft>) => setDraft({ ...draft, ...change });
  const save = useAction();
  const [invalidJson, setInvalidJson] = useState<Record<string, boolean>>({});
  const validity = (field: string) => (valid: boolean) => setInvalidJson((fields) => ({ ...fields, [field]: !valid }));
  const blocked = Object.values(invalidJson).some(Boolean);
  const resources = useLoad(async () => {
    const [vectorStores, files] = await Promise.all([listAll(api().vectorStores.list({ limit: 100 })), listAll(api().files.list({ purpose: 'assistants', limit: 100 }))]);
    return { vectorStores, files };
  }, []);
  return (
    <form
      class="assistant-editor"
      onSubmit={(event) => {
        event.preventDefault();
        void save.run(async () => {
          const body = requestOf(draft);
          onSaved(assistant ? await api().beta.assistants.update(assistant.id, body) : await api().beta.assistants.create(body));
        });
      }}
    >
      <div class="grid">
        <label>Name<input name="name" value={draft.name} onInput={(event) => set({ name: event.currentTarget.value })} /></label>
        <label>Model<input name="model" required value={draft.model} onInput={(event) => set({ model: event.currentTarget.value })} /></label>
      </div>
      <label>Description<input name="description" value={draft.description} onInput={(event) => set({ description: event.currentTarget.value })} /></label>
      <label>Instructions<textarea name="instructions" rows={3} value={draft.instructions} onInput={(event) => set({ instructions: event.currentTarget.value })} /></label>
      <div class="grid">
        <label>Temperature<input name="temperature" type="number" min={0} max={2} step={0.1} value={draft.temperature} onInput={(event) => set({ temperature: Number(event.currentTarget.value) })} /></label>
        <label>top_p<input name="top_p" type="number" min={0} max={1} step={0.05} value={draft.top_p} onInput={(event) => set({ top_p: Number(event.currentTarget.value) })} /></label>
      </div>
      <JsonField
        label="Response format"
        name="response_format"
        rows={2}
        value={draft.responseFormat}
        onValue={(responseFormat) => set({ responseFormat })}
        onValidity={validity('response_format')}
        hint={'"auto", {"type":"text"}, {"type":"json_object"} or {"type":"json_schema","json_schema":{…}}'}
      />
      <fieldset>
        <legend>Tools</legend>
        <label><input type="checkbox" name="file_search" checked={draft.fileSearch} onChange={(event) => set({ fileSearch: event.currentTarget.checked })} /> file_search</label>
        {draft.fileSearch && (
          <div class="choices">
            {(resources.data?.vectorStores ?? []).map((store) => (
              <label><input type="checkbox" checked={draft.vectorStoreIds.includes(store.id)} onChange={(event) => set({ vectorStoreIds: toggled(draft.vectorStoreIds, store.id, event.currentTarget.checked) })} /> {store.name || store.id}</label>
            ))}
            {resources.data?.vectorStores.length === 0 && <small>No vector stores yet.</small>}
          </div>
        )}
        <label><input type="checkbox" name="code_interpreter" checked={draft.codeInterpreter} onChange={(event) => set({ codeInterpreter: event.currentTarget.checked })} /> code_interpreter</label>
        {draft.codeInterpreter && (
          <div class="choices">
            {(resources.data?.files ?? []).map((file) => (
              <label><input type="checkbox" checked={draft.codeFileIds.includes(file.id)} onChange={(event) => set({ codeFileIds: toggled(draft.codeFileIds, file.id, event.currentTarget.checked) })} /> {file.filename}</label>
            ))}
            {resources.data?.files.length === 0 && <small>No files yet.</small>}
          </div>
        )}
      </fieldset>
      <JsonField
        label="Functions"
        name="functions"
        value={draft.functions}
        onValue={(functions) => set({ functions })}
        onValidity={validity('functions')}
        hint={`A JSON array of function definitions, e.g. ${JSON.stringify([EXAMPLE_FUNCTION])}`}
      />
      <JsonField label="Metadata" name="metadata" rows={3} value={draft.metadata} onValue={(metadata) => set({ metadata })} onValidity={validity('metadata')} hint="Up to 16 string pairs." />
      <ErrorBox error={resources.error} />
      <ErrorBox error={save.error} />
      {blocked && <p class="error-message">Fix the JSON above before saving.</p>}
      <button type="submit" aria-busy={save.busy} disabled={save.busy || blocked}>{assistant ? 'Save assistant' : 'Create assistant'}</button>
    </form>
  );
}
