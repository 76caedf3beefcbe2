import aws4 from 'aws4';
import { webhookHeaders } from '../lib/webhook-signature.js';
import type { CheckpointLine } from './checkpoints.js';

/** Where a signed checkpoint is copied, away from the store: a webhook, object storage. */
export interface CheckpointExporter {
  readonly name: string;
  /** Rejects when the copy did not get through. */
  send(line: CheckpointLine, signal: AbortSignal): Promise<void>;
}

async function mustSucceed(response: Response, what: string): Promise<void> {
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    throw new Error(`${what} answered HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }
}

/**
 * POSTs `{ event: "audit.checkpoint", checkpoint, record }` as JSON, signed like every Warden
 * webhook (`x-warden-timestamp`, `x-warden-signature: sha256=…`).
 */
export function webhookExporter(options: { url: string; secret: string }): CheckpointExporter {
  const where = new URL(options.url);
  return {
    name: `webhook ${where.origin}`,
    async send(line, signal) {
      const body = JSON.stringify({ event: 'audit.checkpoint', ...line });
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...webhookHeaders(options.secret, body) },
        body,
        signal,
        redirect: 'error',
      });
      await mustSucceed(response, `checkpoint webhook ${where.origin}`);
    },
  };
}

export interface S3Options {
  bucket: string;
  /** Key prefix, without leading or trailing `/` (may be empty). */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, R2, …): the bucket then goes in the path. Default AWS's virtual-hosted URL. */
  endpoint?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where `line` goes in the bucket: `<prefix>/<record>.json`, `record` being the seq of the checkpoint's audit record. */
export function s3Key(prefix: string, line: CheckpointLine): string {
  return `${prefix ? `${prefix}/` : ''}${line.record}.json`;
}

/**
 * PUTs each checkpoint as `<prefix>/<seq>.json` (the seq of its audit record) to S3 or an
 * S3-compatible store, signed with AWS Signature V4 (the `aws4` package: one signed request
 * needs no whole AWS SDK).
 */
export function s3Exporter(options: S3Options): CheckpointExporter {
  const base = options.endpoint
    ? new URL(options.endpoint)
    : new URL(`https://${options.bucket}.s3.${options.region}.amazonaws.com`);
  const pathOf = (key: string) =>
    `${base.pathname.replace(/\/$/, '')}${options.endpoint ? `/${options.bucket}` : ''}/${key
      .split('/')
      .map(encodeURIComponent)
      .join('/')}`;
  const name = `s3 ${options.bucket}`;
  return {
    name,
    async send(line, signal) {
      const body = `${JSON.stringify(line)}\n`;
      const signed = aws4.sign(
        {
          host: base.host,
          method: 'PUT',
          path: pathOf(s3Key(options.prefix, line)),
          service: 's3',
          region: options.region,
          body,
          headers: { 'content-type': 'application/json' },
        },
        {
          accessKeyId: options.accessKeyId,
          secretAccessKey: options.secretAccessKey,
          ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
        },
      );
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(signed.headers ?? {})) {
        // fetch sets these itself from the body and the URL.
        if (value !== undefined && !/^(content-length|host)$/i.test(name)) headers[name] = String(value);
      }
      const response = await fetch(`${base.protocol}//${base.host}${signed.path}`, {
        method: 'PUT',
        headers,
        body,
        signal,
        redirect: 'error',
      });
      await mustSucceed(response, `checkpoint upload to ${name}`);
    },
  };
}

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 5 * 60_000;
const SEND_TIMEOUT_MS = 10_000;
/** Checkpoints waiting for one exporter at most: past it the oldest is dropped (each is in the audit anyway). */
const MAX_WAITING = 1000;

interface Queue {
  exporter: CheckpointExporter;
  waiting: CheckpointLine[];
  busy: boolean;
}

/**
 * Copies each checkpoint to every exporter, in order, retrying one that fails with a backoff
 * (1 s doubling to 5 min) until it gets through. A failure never stops the caller: it is told to
 * `onError` (to log and alert), and the checkpoint stays in the audit chain whatever happens here.
 */
export class CheckpointExports {
  readonly #queues: Queue[];
  readonly #onError: (exporter: CheckpointExporter, error: unknown, attempt: number) => void;
  readonly #controller = new AbortController();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    exporters: readonly CheckpointExporter[],
    onError: (exporter: CheckpointExporter, error: unknown, attempt: number) => void,
  ) {
    this.#queues = exporters.map((exporter) => ({ exporter, waiting: [], busy: false }));
    this.#onError = onError;
  }

  /** Queues `line` for every exporter. */
  add(line: CheckpointLine): void {
    for (const queue of this.#queues) {
      queue.waiting.push(line);
      if (queue.waiting.length > MAX_WAITING) queue.waiting.shift();
      void this.#drain(queue, 0);
    }
  }

  /** True when nothing waits to be sent. */
  get idle(): boolean {
    return this.#queues.every((q) => q.waiting.length === 0 && !q.busy);
  }

  close(): void {
    this.#controller.abort();
    for (const timer of this.#timers) clearTimeout(timer);
  }

  async #drain(queue: Queue, failures: number): Promise<void> {
    if (queue.busy || this.#controller.signal.aborted) return;
    queue.busy = true;
    let failed = failures;
    while (queue.waiting.length > 0 && !this.#controller.signal.aborted) {
      const line = queue.waiting[0] as CheckpointLine;
      try {
        await queue.exporter.send(
          line,
          AbortSignal.any([this.#controller.signal, AbortSignal.timeout(SEND_TIMEOUT_MS)]),
        );
        queue.waiting.shift();
        failed = 0;
      } catch (error) {
        if (this.#controller.signal.aborted) break;
        failed++;
        this.#onError(queue.exporter, error, failed);
        const timer = setTimeout(
          () => {
            this.#timers.delete(timer);
            void this.#drain(queue, failed);
          },
          Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (failed - 1)),
        );
        timer.unref();
        this.#timers.add(timer);
        queue.busy = false;
        return;
      }
    }
    queue.busy = false;
  }
}
