import { z } from 'zod';

const path = z.string().min(1, 'expected a non-empty path').max(4096);

/** SPEC §2: the params each built-in type requires. Unknown types take free-form params. */
export const PARAM_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  'fs.read': z.object({ path }).loose(),
  'fs.list': z.object({ path }).loose(),
  'fs.write': z.object({ path, content: z.string() }).loose(),
  'fs.delete': z.object({ path }).loose(),
  'sql.query': z
    .object({
      sql: z.string().min(1, 'expected SQL text').max(1_000_000),
      database: z.string().min(1).optional(),
      params: z.array(z.unknown()).optional(),
    })
    .loose(),
  'http.request': z
    .object({
      url: z.string().min(1).max(16_384),
      method: z
        .string()
        .regex(/^[A-Za-z]+$/, 'expected an HTTP method such as `GET`')
        .optional(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    })
    .loose(),
  'shell.exec': z
    .object({
      command: z.string().min(1).max(100_000).optional(),
      argv: z.array(z.string()).min(1).optional(),
    })
    .loose()
    .refine((p) => (p.command === undefined) !== (p.argv === undefined), {
      message: 'expected exactly one of `command` (a shell string) or `argv` (an array)',
    }),
  'code.exec': z
    .object({ language: z.enum(['python', 'javascript']), code: z.string().min(1).max(1_000_000) })
    .loose(),
  'llm.generate': z
    .object({
      model: z.string().min(1),
      prompt: z.string().optional(),
      inputTokens: z.number().int().nonnegative().optional(),
      maxOutputTokens: z.number().int().nonnegative().optional(),
    })
    .loose(),
  'llm.output': z
    .object({ text: z.string().max(4_000_000, 'expected at most 4,000,000 characters of text') })
    .loose(),
};

export const PAYMENT_PARAMS = z
  .object({
    amount: z.number().positive('expected a positive amount').finite(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as `USD`'),
    to: z.string().min(1, 'expected a payee'),
  })
  .loose();

export function paramSchemaFor(type: string): z.ZodType | undefined {
  return PARAM_SCHEMAS[type] ?? (type.startsWith('payment.') ? PAYMENT_PARAMS : undefined);
}
