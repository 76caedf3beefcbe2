import type { Readable } from 'node:stream';

/**
 * Calls `onLine` with each newline-framed line of `stream` (empty lines skipped): the framing of
 * the MCP bench's bare line proxy and of its prototype gateway, by hand and minimal on purpose,
 * so that neither measures a library's.
 */
export function lines(stream: Readable, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      if (line) onLine(line);
    }
  });
}
