/**
 * Schema fragments that more than one stage kind reads. Declared once so that kinds reading
 * the same spec path agree on it (the runner refuses two different schemas for one path).
 */

export const seedSchema = {
  type: 'integer',
  minimum: 0,
  default: 42,
  description: 'Seed for every random choice (question draws, splits, subsets, training).',
} as const;

export const llmSchema = {
  type: 'object',
  description: 'The LLM that labels images, writes QA pairs and writes distractors.',
  additionalProperties: false,
  properties: {
    provider: {
      enum: ['gemini', 'openai', 'local'],
      default: 'local',
      description:
        'gemini: Google Gemini through @google/genai; openai: any OpenAI-compatible server (vLLM, Ollama, llama.cpp); local: a GGUF model run in-process by node-llama-cpp.',
    },
    model: {
      type: 'string',
      minLength: 1,
      default: 'smollm2-135m-instruct-q4_1',
      description:
        'Model id at the provider (a Gemini or OpenAI-compatible model id), or the local GGUF model name. Providers retire models: `dermatune preflight` asks the provider whether it still serves this one.',
    },
    base_url: {
      type: 'string',
      description: 'Endpoint override (an OpenAI-compatible server, or a Gemini-protocol proxy).',
    },
    api_key_env: {
      type: 'string',
      pattern: '^[A-Z_][A-Z0-9_]*$',
      description:
        'Name of the environment variable holding the API key. The key itself never goes in a spec.',
    },
    temperature: { type: 'number', minimum: 0, maximum: 2, default: 0 },
    max_output_tokens: {
      type: 'integer',
      minimum: 1,
      default: 512,
      description:
        'Output tokens for the answer itself; for gemini the thinking budget is granted on top. An answer cut off at the budget is tried once more with twice the room, then reported (max-tokens).',
    },
    thinking_budget: {
      type: 'integer',
      minimum: -1,
      // Labelling from metadata and writing short QA need little reasoning; a small fixed budget
      // keeps thoughts from eating the answer's room and the bill predictable (current Gemini
      // models think by default, unbounded).
      default: 512,
      description:
        "Gemini only: thinking tokens per call, granted on top of max_output_tokens. Sent as the SDK's thinkingConfig.thinkingBudget (0 off where the model allows it, -1 the model decides, unbounded) unless thinking_level is set; then it is only the room kept for thoughts. Thought tokens are billed as output and counted in usage and cost.",
    },
    thinking_level: {
      enum: ['minimal', 'low', 'medium', 'high'],
      description:
        "Gemini 3 models: the SDK's thinkingConfig.thinkingLevel, sent instead of the budget (Gemini refuses both). Unset: the budget is sent.",
    },
    send_images: {
      type: 'boolean',
      default: false,
      description:
        'Send the image with the metadata. Off: the paper labels and questions from metadata only.',
    },
    threads: {
      type: 'integer',
      minimum: 1,
      maximum: 256,
      default: 1,
      description:
        'CPU threads for the local provider (1 is fastest on a small shared machine; raise it on a big one). With llm.parallel above 1, answers may not repeat exactly: on a 2-core machine a repeat of a 4-parallel run on two threads changed answers, and on one thread 2 of 140 differed between two fresh runs (bench/llm-batching.ts). One at a time repeats.',
    },
    parallel: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: 1,
      description:
        'Items the local provider decodes at once, as parallel sequences of one context (each step evaluates every busy sequence in one batch).',
    },
    request_timeout_s: {
      type: 'number',
      exclusiveMinimum: 0,
      description:
        'Give up on one call after this long and retry (default 120 s remote, 600 s local).',
    },
    max_attempts: {
      type: 'integer',
      minimum: 1,
      maximum: 20,
      default: 4,
      description:
        'Attempts per item (malformed answers, 429, 5xx, timeouts) before it is reported failed.',
    },
    rate_limit: {
      type: 'object',
      additionalProperties: false,
      description: 'Client-side limits, to stay under the provider quota.',
      properties: {
        requests_per_minute: { type: 'integer', minimum: 1 },
        tokens_per_minute: { type: 'integer', minimum: 1 },
        concurrency: { type: 'integer', minimum: 1, default: 4 },
      },
      default: {},
    },
    price: {
      type: 'object',
      additionalProperties: false,
      description: 'USD per million tokens, to report cost with usage.',
      properties: {
        input_per_million: { type: 'number', minimum: 0 },
        output_per_million: { type: 'number', minimum: 0 },
      },
    },
  },
  default: {},
} as const;

export const modelBaseSchema = {
  type: 'string',
  minLength: 1,
  description:
    'The vision-language model: a hub id (HuggingFaceTB/SmolVLM-Base) or a local folder. The baseline variant of the paper sets it to HuggingFaceTB/SmolVLM-Instruct with train.method: none.',
} as const;

export const modelRevisionSchema = {
  type: 'string',
  default: 'main',
  description: 'Hub revision (commit sha for reproducibility); ignored for local folders.',
} as const;

export const supervisionSchema = {
  enum: ['qa', 'caption', 'qa_caption'],
  default: 'qa',
  description:
    'What the model is fine-tuned on: qa (image + question -> answer), caption (image + instruction -> caption), qa_caption (both kinds of examples).',
} as const;

export const labellerSchema = {
  enum: ['llm', 'keywords', 'from_source'],
  default: 'llm',
  description:
    "Who labels the figures: llm (the paper: the LLM reads the metadata), keywords (an offline stand-in that matches condition terms in the caption and mentions, for when no capable LLM is at hand), or from_source (the dataset's own label column, data.columns.label; no annotate stage runs).",
} as const;

/** `data.qa`: read by the source-qa kind, which runs only when it says from_source. */
export const qaSourceSchema = {
  enum: ['llm', 'from_source'],
  default: 'llm',
  description:
    "Where the QA pairs come from: llm (the paper: generate-qa asks the LLM, clean-qa tidies) or from_source (the dataset's own question and answer columns; neither LLM stage runs).",
} as const;

/**
 * Longest edge images are resized to before the processor tiles them; null keeps the model's
 * own (SmolVLM: 1536 px, so 13 to 17 tiles of 384 px). Smaller is cheaper and coarser.
 */
export const imageSizeSchema = {
  'x-expects': 'a positive integer (pixels) or null',
  anyOf: [{ type: 'integer', minimum: 16 }, { type: 'null' }],
  default: null,
  description:
    "Longest image edge before tiling; null keeps the processor's own (SmolVLM: 1536 px, 13-17 tiles).",
};

export const deviceSchema = { enum: ['auto', 'cpu', 'cuda'], default: 'auto' };

export const precisionSchema = {
  enum: ['auto', 'fp32', 'bf16', 'fp16'],
  default: 'auto',
  description: 'auto: bf16 on a GPU that supports it, else fp16 on GPU, fp32 on the CPU.',
};

export const categoriesSchema = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: {
    'x-expects': 'a category name or number (1-29)',
    anyOf: [
      { type: 'integer', minimum: 1, maximum: 29 },
      { type: 'string', minLength: 1 },
    ],
  },
  default: ['Bacterial Infections'],
  description: 'Categories to keep, by name or number (21 = Bacterial Infections).',
} as const;

/** Split reads it; subset's preflight too, to estimate the training images a source holds. */
export const testFractionSchema = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: 1,
  default: 0.1,
  description:
    'Share of images in the test split (the paper: 90:10); 1 puts every image in test, for a sweep that only scores untuned models.',
} as const;

/** `eval.distractors`: read by both distractor kinds (the LLM's and the test set's own answers). */
export const distractorCountSchema = {
  type: 'integer',
  minimum: 1,
  maximum: 9,
  default: 3,
  description: 'Wrong options per question (the paper: 3, so 4 options in all).',
} as const;

/** `eval.distractor_source`: read by the LLM-free kind, which runs only when it says other_answers. */
export const distractorSourceSchema = {
  enum: ['llm', 'other_answers'],
  default: 'llm',
  description:
    "Where the wrong options come from: llm (the paper: the LLM writes look-alikes) or other_answers (other test questions' answers, screened as the LLM's are; no LLM runs).",
} as const;
