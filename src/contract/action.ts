import { z } from 'zod';

/** Action types are dotted, `family.verb` (more segments allowed: `mcp.github.create_issue`). */
export const ACTION_TYPE_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/;

export const CostSchema = z
  .object({
    usd: z.number().nonnegative().finite().optional(),
    model: z.string().min(1).optional(),
    inputTokens: z.number().int().nonnegative().optional(),
    outputTokens: z.number().int().nonnegative().optional(),
  })
  .strict();

/** SPEC §2 (contract). Unknown top-level fields are refused so a typo never passes silently. */
export const ActionSchema = z
  .object({
    agent: z.string().min(1, 'expected a non-empty agent name').max(200),
    type: z
      .string()
      .max(200)
      .regex(ACTION_TYPE_PATTERN, 'expected a dotted lowercase type such as `fs.read` or `payment.send`'),
    params: z.record(z.string(), z.unknown()).optional(),
    id: z.string().min(1).max(200).optional(),
    user: z.string().min(1).max(200).optional(),
    session: z.string().min(1).max(200).optional(),
    cost: CostSchema.optional(),
    description: z.string().max(10_000).optional(),
  })
  .strict();

export type ActionInput = z.input<typeof ActionSchema>;

/** An action after validation: `id` and `params` are always present. */
export interface Action {
  agent: string;
  type: string;
  params: Record<string, unknown>;
  id: string;
  user?: string;
  session?: string;
  cost?: z.infer<typeof CostSchema>;
  description?: string;
}
