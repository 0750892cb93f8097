/**
 * What an error means to whoever handles it, by its `name`. Only the name and message survive a worker
 * or port boundary, and core cannot import the folders that own most of these classes, so this one table
 * is what the API's status codes, the revivers and the views all read. The kinds are API error codes.
 */
export type ErrorKind =
  | 'cancelled'
  | 'bad_request'
  | 'not_found'
  | 'engine_unavailable'
  | 'engine_crashed'
  | 'model_not_installed'
  | 'model_loading'
  | 'storage_full'
  | 'internal_error';

const TABLE: Record<ErrorKind, readonly string[]> = {
  // A DOM abort (fetch, a stream) is a cancel like ours.
  cancelled: ['CancelledError', 'AbortError'],
  // The caller's input: parameters, text, formulas, files, references.
  bad_request: [
    'TtsParamError',
    'MixFormulaError',
    'UnsupportedLanguageError',
    'LexiconError',
    'DesignError',
    'FormatOptionError',
    'UnsupportedFormatError',
    'DecodeError',
    'AnalysisInputError',
    'AsrParamError',
    'UnknownAsrModelError',
    'WordTimestampsUnavailableError',
    'WavFormatError',
    'CheckpointError',
    'OpenVoiceConfigError',
    'OpenVoiceWeightsError',
    'TooLittleSpeechError',
    'CloneParamError',
    'ConverterGraphError',
  ],
  not_found: ['UnknownVoiceError'],
  engine_unavailable: ['EngineUnavailableError'],
  // The engine worker died under the job (crash, or gone silent) and was restarted.
  engine_crashed: ['EngineCrashedError'],
  model_not_installed: ['ModelNotInstalledError'],
  // Being installed (on its way): the API answers 503 with Retry-After and the install's progress.
  model_loading: ['ModelLoadingError'],
  // The browser's quota error (Firefox's older name too) and ours that wraps it.
  storage_full: ['StorageFullError', 'QuotaExceededError', 'NS_ERROR_DOM_QUOTA_REACHED'],
  // Names not in the table: their messages are not shown.
  internal_error: [],
};

/** Every name in the table with its kind. */
export const ERROR_KINDS: ReadonlyMap<string, ErrorKind> = new Map(
  (Object.entries(TABLE) as [ErrorKind, readonly string[]][]).flatMap(([kind, names]) =>
    names.map((name) => [name, kind] as const),
  ),
);

/** The kind of anything thrown, by its name; undefined when the name is not in the table. */
export function errorKind(e: unknown): ErrorKind | undefined {
  if (!e || typeof e !== 'object' || !('name' in e)) return undefined;
  return ERROR_KINDS.get(String(e.name));
}
