import type { StreamFormat } from '../http/streamed-answer.ts';

/** REST's streamed answer: one JSON event per line (NDJSON). */
export const ndjsonFormat: StreamFormat = {
  contentType: 'application/x-ndjson; charset=utf-8',
  serialize: (event) => `${JSON.stringify(event)}\n`,
};
