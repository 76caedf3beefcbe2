import { z } from 'zod';

/**
 * The policy's `monitoring` section: structured logs, Prometheus metrics, OpenTelemetry traces,
 * anomaly detection and alert sinks. `docs/policy.md#monitoring` documents every field.
 */

const Duration = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'expected a duration such as `30s`, `15m` or `1h`'),
]);

/** A secret given inline, or `env:NAME` to read it from the environment when the policy loads. */
const Secret = z
  .string()
  .min(1)
  .describe('the value, or `env:NAME` to read it from the environment variable NAME');

export const RESPONSES = ['none', 'approve-all', 'tighten-limits', 'kill'] as const;
export type AnomalyResponse = (typeof RESPONSES)[number];
const Response = z
  .enum(RESPONSES)
  .describe(
    "what Warden does on its own when this anomaly is detected: `none` (alert only), `approve-all` (every action of the agent needs approval until cleared), `tighten-limits` (the agent's rate limits are divided by `limits.tighten.factor`, and what no rate rule counts gets the emergency limit `limits.tighten.emergency`, until cleared; when neither can apply to the agent, acts as `approve-all`), `kill` (stops the agent)",
  );
const Severity = z.enum(['info', 'warning', 'critical']);

const common = (response: AnomalyResponse, severity: z.infer<typeof Severity>) => ({
  enabled: z.boolean().default(true),
  response: Response.default(response),
  severity: Severity.default(severity),
});

const LogsSchema = z
  .object({
    enabled: z.boolean().default(true),
    destination: z
      .string()
      .min(1)
      .default('stdout')
      .describe('`stdout`, `stderr`, or a file path (appended to; created when missing)'),
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    redact: z
      .array(z.string().min(1))
      .default([])
      .describe('more pino redact paths, such as `action.params.headers.cookie`'),
  })
  .strict()
  .prefault({});

const MetricsSchema = z
  .object({
    enabled: z.boolean().default(true),
    auth: z
      .enum(['token', 'localhost'])
      .default('token')
      .describe(
        '`token`: `GET /metrics` needs a viewer, approver or admin bearer token; `localhost`: also served without a token to clients on the loopback interface',
      ),
  })
  .strict()
  .prefault({});

const TracesSchema = z
  .object({
    endpoint: z
      .url()
      .optional()
      .describe('OTLP/HTTP traces URL, e.g. `http://127.0.0.1:4318/v1/traces`; no endpoint, no traces'),
    headers: z.record(z.string(), Secret).default({}).describe('sent with every export (e.g. an API key)'),
    serviceName: z.string().min(1).default('warden'),
    sampleRatio: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe('share of actions traced (1 = all); unsampled actions cost nothing'),
  })
  .strict()
  .prefault({});

const AnomaliesSchema = z
  .object({
    enabled: z.boolean().default(true),
    costSpike: z
      .object({
        ...common('none', 'critical'),
        factor: z
          .number()
          .positive()
          .default(2)
          .describe('spike when the window spend exceeds factor × baseline'),
        window: Duration.default('1m'),
        baselineWindows: z.number().int().min(1).max(1000).default(10),
        minBaselineUsd: z
          .number()
          .nonnegative()
          .default(1)
          .describe('floor of the baseline; the whole baseline while no full window of history exists'),
      })
      .strict()
      .prefault({}),
    costThreshold: z
      .object({
        ...common('none', 'critical'),
        perActionUsd: z
          .number()
          .positive()
          .optional()
          .describe('alert when one action costs more than this many dollars; default no threshold'),
        perSessionUsd: z
          .number()
          .positive()
          .optional()
          .describe("alert when a session's spend passes this many dollars (once per session)"),
        perHourUsd: z
          .number()
          .positive()
          .optional()
          .describe(
            "alert when an agent's spend within the last hour passes this many dollars (at most hourly)",
          ),
      })
      .strict()
      .prefault({})
      .describe('absolute spend thresholds (`cost > $5`), beside the relative `costSpike`'),
    failureRate: z
      .object({
        ...common('none', 'warning'),
        threshold: z.number().gt(0).lte(1).default(0.1),
        minSamples: z.number().int().min(1).default(20),
        window: Duration.default('5m'),
      })
      .strict()
      .prefault({}),
    denialBurst: z
      .object({
        ...common('none', 'warning'),
        count: z.number().int().min(2).default(10),
        window: Duration.default('1m'),
      })
      .strict()
      .prefault({}),
    novelty: z
      .object({
        ...common('none', 'info'),
        learningActions: z
          .number()
          .int()
          .min(1)
          .default(50)
          .describe('decisions of an agent seen before its new types and resources are flagged'),
      })
      .strict()
      .prefault({}),
    loop: z
      .object({
        ...common('none', 'warning'),
        repeats: z.number().int().min(2).default(5),
        window: Duration.default('1m'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const SlackSink = z.object({ type: z.literal('slack'), name: z.string().optional(), url: Secret }).strict();
const PagerDutySink = z
  .object({
    type: z.literal('pagerduty'),
    name: z.string().optional(),
    routingKey: Secret,
    url: z.url().default('https://events.pagerduty.com/v2/enqueue'),
    source: z.string().default('warden'),
  })
  .strict();
const WebhookSink = z
  .object({
    type: z.literal('webhook'),
    name: z.string().optional(),
    url: Secret,
    secret: Secret.describe('HMAC-SHA256 key for the `x-warden-signature` header'),
  })
  .strict();
const EmailSink = z
  .object({
    type: z.literal('email'),
    name: z.string().optional(),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    secure: z
      .boolean()
      .default(false)
      .describe('TLS from the start (port 465); otherwise STARTTLS when offered'),
    user: z.string().optional(),
    password: Secret.optional(),
    from: z.string().min(3),
    to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]),
  })
  .strict();

export const SinkSchema = z.discriminatedUnion('type', [SlackSink, PagerDutySink, WebhookSink, EmailSink]);
export type SinkConfig = z.infer<typeof SinkSchema>;

const AlertsSchema = z
  .object({
    sinks: z.array(SinkSchema).default([]),
    minSeverity: Severity.default('info').describe('alerts below this severity are recorded, not sent'),
    dedupWindow: Duration.default('10m').describe('the same alert key is sent once per window'),
    rateLimit: z
      .object({ max: z.number().int().min(1).default(30), per: Duration.default('1m') })
      .strict()
      .prefault({})
      .describe('alerts sent per sink; the rest are recorded as `suppressed`'),
    retry: z
      .object({
        attempts: z.number().int().min(1).max(1000).default(10),
        initialDelay: Duration.default('1s'),
        maxDelay: Duration.default('5m'),
        timeout: Duration.default('10s').describe('one delivery attempt'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export const MonitoringSchema = z
  .object({
    enabled: z
      .boolean()
      .optional()
      .describe('default: on under `warden serve`, off for an embedded Warden (`createWarden`)'),
    logs: LogsSchema,
    metrics: MetricsSchema,
    traces: TracesSchema,
    anomalies: AnomaliesSchema,
    alerts: AlertsSchema,
  })
  .strict()
  .prefault({});

export type MonitoringConfig = z.infer<typeof MonitoringSchema>;
export type AnomaliesConfig = MonitoringConfig['anomalies'];
export type AlertsConfig = MonitoringConfig['alerts'];

/** Resolves `env:NAME` secrets; throws naming the variable when it is not set. */
export function resolveSecret(value: string, field: string): string {
  if (!value.startsWith('env:')) return value;
  const name = value.slice(4);
  const found = process.env[name];
  if (found === undefined || found === '') {
    throw new Error(
      `${field}: environment variable \`${name}\` is not set; set it or write the value inline`,
    );
  }
  return found;
}
