import type { Readable } from 'node:stream';
import type { SandboxStream } from './sandbox.js';

/**
 * Keeps at most `cap` bytes of a stream and counts the rest; calls `onCap` once when the stream
 * goes past the cap (the sandbox then kills the run: an output flood must not keep a CPU busy).
 */
export class OutputCapture {
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #bytes = 0;
  #truncated = false;

  constructor(
    stream: Readable,
    private readonly cap: number,
    onCap: () => void,
  ) {
    stream.on('data', (chunk: Buffer) => {
      this.#bytes += chunk.length;
      if (this.#truncated) return;
      const room = this.cap - this.#kept;
      if (chunk.length <= room) {
        this.#chunks.push(chunk);
        this.#kept += chunk.length;
        return;
      }
      if (room > 0) this.#chunks.push(chunk.subarray(0, room));
      this.#kept = this.cap;
      this.#truncated = true;
      onCap();
    });
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  result(): SandboxStream {
    return {
      text: Buffer.concat(this.#chunks).toString('utf8'),
      bytes: this.#bytes,
      truncated: this.#truncated,
    };
  }
}
