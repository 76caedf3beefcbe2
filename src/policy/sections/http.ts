import { Ajv } from 'ajv';
import { z } from 'zod';
import { RISK_LEVELS } from '../../contract/risk.js';
import { hostPatternProblem } from '../../lib/glob.js';

/**
 * The policy's `http` section: what the HTTP guard checks in every `http.request` and how the
 * SSRF-safe executor performs it. Per-agent host grants stay in `agents.*.resources.hosts`
 * (the permissions stage); the host lists here apply to every agent.
 */

const hostPattern = z
  .string()
  .min(1)
  .superRefine((pattern, ctx) => {
    const problem = hostPatternProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const duration = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'expected a duration such as `10s` or `500ms`'),
]);

/** Validates a JSON Schema once at load, so a broken schema is a policy error with a line number. */
const jsonSchema = z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
  try {
    new Ajv({ strict: false }).compile(schema);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid JSON Schema: ${(error as Error).message}` });
  }
});

export const HttpEndpointSchema = z
  .object({
    url: z
      .string()
      .min(1)
      .describe(
        'URL pattern without the query: `*` matches any characters, e.g. `https://api.example.com/v1/orders*`',
      ),
    methods: z
      .array(z.string().regex(/^[A-Za-z]+$/))
      .optional()
      .describe('methods this entry applies to; default all'),
    schema: jsonSchema.optional().describe('JSON Schema the request body must satisfy'),
    risk: z.enum(RISK_LEVELS).optional().describe('raise requests to this endpoint to this risk'),
  })
  .strict();

export const HttpPolicySchema = z
  .object({
    schemes: z
      .array(z.enum(['https', 'http']))
      .min(1)
      .default(['https', 'http'])
      .describe('URL schemes allowed; default `https` and `http`'),
    methods: z
      .array(z.string().regex(/^[A-Z]+$/, 'expected an upper-case HTTP method such as `GET`'))
      .min(1)
      .default(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
      .describe('methods allowed; `CONNECT` and `TRACE` are left out by default'),
    hosts: z
      .object({
        allow: z.array(hostPattern).default(['*']).describe('hosts any agent may reach; default `*`'),
        deny: z
          .array(hostPattern)
          .default(['localhost', '*.localhost', 'metadata.google.internal', 'metadata.goog', 'instance-data'])
          .describe('hosts no agent may reach, whatever its grants'),
      })
      .strict()
      .prefault({}),
    sensitive: z
      .array(z.string().min(1))
      .default(['admin', 'delete_account', 'transfer_funds', 'change_password'])
      .describe('words in a URL that raise the request to `sensitiveRisk` (the guide’s list)'),
    sensitiveRisk: z
      .enum(RISK_LEVELS)
      .default('high')
      .describe('risk of a sensitive request; high asks by default'),
    secretsInUrl: z
      .enum(['deny', 'ask'])
      .default('deny')
      .describe('what to do with an API key or token in the URL: `deny`, or `ask` (raise to critical)'),
    endpoints: z.array(HttpEndpointSchema).default([]).describe('per-endpoint payload schemas and risk'),
    timeout: duration.default('10s').describe('whole-request deadline, redirects included'),
    maxResponseBytes: z
      .number()
      .int()
      .min(1)
      .max(1024 * 1024 * 1024)
      .default(1024 * 1024)
      .describe('response bodies larger than this fail the request; default 1 MiB'),
    maxRedirects: z.number().int().min(0).max(20).default(5).describe('redirects followed, each re-checked'),
  })
  .strict();

export type HttpPolicy = z.infer<typeof HttpPolicySchema>;
