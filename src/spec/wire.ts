import type { components } from './openapi-types.js';

/** Wire shapes, generated from the spec by `npm run spec:types`; never retyped by hand. */
type Schemas = components['schemas'];

export type Assistant = Schemas['AssistantObject'];
export type Thread = Schemas['ThreadObject'];
export type Message = Schemas['MessageObject'];
export type MessageContent = Message['content'][number];
export type Run = Schemas['RunObject'];
export type RunStatus = Run['status'];
export type RunStep = Schemas['RunStepObject'];
export type RunStepStatus = RunStep['status'];
export type RunToolCall = Schemas['RunToolCallObject'];
export type FunctionToolCall = Schemas['RunStepDetailsToolCallsFunctionObject'];
export type Usage = NonNullable<Schemas['RunStepCompletionUsage']>;
export type Tool = Assistant['tools'][number];
export type Metadata = Schemas['Metadata'];
export type ToolChoice = Schemas['AssistantsApiToolChoiceOption'];
export type ResponseFormat = Schemas['AssistantsApiResponseFormatOption'];
export type TruncationStrategy = Schemas['TruncationObject'];

export type CreateAssistantRequest = Schemas['CreateAssistantRequest'];
export type ModifyAssistantRequest = Schemas['ModifyAssistantRequest'];
export type CreateThreadRequest = Schemas['CreateThreadRequest'];
export type ModifyThreadRequest = Schemas['ModifyThreadRequest'];
export type CreateMessageRequest = Schemas['CreateMessageRequest'];
export type ModifyMessageRequest = Schemas['ModifyMessageRequest'];
export type CreateRunRequest = Schemas['CreateRunRequest'];
export type CreateThreadAndRunRequest = Schemas['CreateThreadAndRunRequest'];
export type ModifyRunRequest = Schemas['ModifyRunRequest'];
export type SubmitToolOutputsRequest = Schemas['SubmitToolOutputsRunRequest'];

export type OpenAIFile = Schemas['OpenAIFile'];
export type Upload = Schemas['Upload'];
export type UploadPart = Schemas['UploadPart'];
export type VectorStore = Schemas['VectorStoreObject'];
export type VectorStoreFile = Schemas['VectorStoreFileObject'];
export type VectorStoreFileBatch = Schemas['VectorStoreFileBatchObject'];
export type VectorStoreSearchResultsPage = Schemas['VectorStoreSearchResultsPage'];
export type VectorStoreFileContentPage = Schemas['VectorStoreFileContentResponse'];
export type FileSearchToolCall = Schemas['RunStepDetailsToolCallsFileSearchObject'];
export type FileCitation = Schemas['MessageContentTextAnnotationsFileCitationObject'];
export type ComparisonFilter = Schemas['ComparisonFilter'];
export type CompoundFilter = Schemas['CompoundFilter'];
export type ChunkingStrategyRequest = Schemas['ChunkingStrategyRequestParam'];

export type CreateUploadRequest = Schemas['CreateUploadRequest'];
export type CompleteUploadRequest = Schemas['CompleteUploadRequest'];
export type CreateVectorStoreRequest = Schemas['CreateVectorStoreRequest'];
export type UpdateVectorStoreRequest = Schemas['UpdateVectorStoreRequest'];
export type CreateVectorStoreFileRequest = Schemas['CreateVectorStoreFileRequest'];
export type CreateVectorStoreFileBatchRequest = Schemas['CreateVectorStoreFileBatchRequest'];
export type UpdateVectorStoreFileAttributesRequest = Schemas['UpdateVectorStoreFileAttributesRequest'];
export type VectorStoreSearchRequest = Schemas['VectorStoreSearchRequest'];
