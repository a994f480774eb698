/** Why a history search cannot be answered as asked; `code` maps to an HTTP status. */
export type HistorySearchErrorCode = 'invalid_query' | 'forbidden' | 'not_found';

/** A history search that cannot be answered as asked. The message says what to change. */
export class HistorySearchError extends Error {
  constructor(
    readonly code: HistorySearchErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HistorySearchError';
  }
}

/** HTTP status of each HistorySearchError code. */
export const HISTORY_SEARCH_ERROR_STATUS = {
  invalid_query: 400,
  forbidden: 403,
  not_found: 404,
} as const satisfies Record<HistorySearchErrorCode, number>;

/** Why the memory file could not be changed; the message says what to do. */
export type MemoryFileErrorCode = 'invalid' | 'unsafe_path' | 'too_large';

/** A memory file change refused or failed (a planted symlink, a file too large…). */
export class MemoryFileError extends Error {
  constructor(
    readonly code: MemoryFileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MemoryFileError';
  }
}
