import { z } from 'zod';
import { ACTION_TYPE_PATTERN } from '../../contract/action.js';

/**
 * The policy's `mcp` section: the upstream MCP servers the gateway aggregates, how their tools
 * map onto Warden actions, and how tool definitions are pinned. Documented in docs/policy.md.
 */

/** `argument` (its value) or `argument[]` (one action per element of a list argument). */
const ArgumentRefSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_$.-]+(\[\])?$/,
    'expected a tool argument name, or `name[]` for one action per element',
  );

export const ToolActionSchema = z
  .object({
    type: z.string().regex(ACTION_TYPE_PATTERN, 'expected a dotted lowercase action type such as `fs.read`'),
    params: z
      .record(z.string().min(1), ArgumentRefSchema)
      .default({})
      .describe('action param ← tool argument name; other arguments pass under their own names'),
  })
  .strict();

export const ToolMappingSchema = z.union([ToolActionSchema, z.array(ToolActionSchema).min(1)]);

const SERVER_NAME = /^[a-z][a-z0-9_-]*$/;

export const McpServerSchema = z
  .object({
    command: z.string().min(1).optional().describe('stdio server: the program to start'),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}).describe('added to a minimal environment'),
    cwd: z.string().min(1).optional(),
    url: z.url().optional().describe('Streamable HTTP server: its endpoint'),
    headers: z.record(z.string(), z.string()).default({}).describe('sent to an HTTP server'),
    preset: z
      .enum(['filesystem', 'none'])
      .default('none')
      .describe('shipped tool mappings: `filesystem` for @modelcontextprotocol/server-filesystem'),
    tools: z.record(z.string().min(1), ToolMappingSchema).default({}).describe('tool name → action(s)'),
  })
  .strict()
  .refine((s) => s.command === undefined || s.url === undefined, {
    message: 'expected one of `command` (stdio server) or `url` (Streamable HTTP server), not both',
  });

export const McpSectionSchema = z
  .object({
    pinning: z
      .enum(['trust-on-first-use', 'approve'])
      .default('trust-on-first-use')
      .describe('whether a tool seen for the first time is approved at once or waits for an admin'),
    elicitation: z
      .object({
        approver: z.string().min(1).describe('the name the vote is cast in'),
        role: z.enum(['approver', 'admin']).default('approver'),
      })
      .strict()
      .optional()
      .describe(
        '`warden mcp` only: ask the MCP client user to approve through elicitation, voting as `approver`',
      ),
    servers: z
      .record(z.string(), McpServerSchema)
      .superRefine((servers, ctx) => {
        for (const name of Object.keys(servers)) {
          if (SERVER_NAME.test(name)) continue;
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `server name \`${name}\`: expected lowercase letters, digits, \`-\` and \`_\`, starting with a letter`,
          });
        }
      })
      .default({}),
  })
  .strict();

export type McpSection = z.infer<typeof McpSectionSchema>;
export type McpServerConfig = z.infer<typeof McpServerSchema>;
export type ToolAction = z.infer<typeof ToolActionSchema>;
export type ToolMapping = z.infer<typeof ToolMappingSchema>;
