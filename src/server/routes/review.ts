import { z } from 'zod';
import { type App, CAN, fail, forbidden, jsonBody, type ServerDeps } from '../http.js';

const ReviewBody = z
  .object({
    text: z.string().max(4_000_000, 'expected at most 4,000,000 characters of text'),
    agent: z.string().min(1).max(200).optional(),
  })
  .strict();

/**
 * Output review: `POST /v1/review` with `{ text }` answers `{ effect, text, findings }`, the
 * text with secrets and personal data redacted as `secrets.review` says (see docs/secrets.md).
 * Nothing is recorded; submit an `llm.output` action for an audited review.
 */
export function registerReviewRoutes(app: App, { warden }: ServerDeps): void {
  app.post('/v1/review', async (c) => {
    const denied = forbidden(c, [...CAN.submit, ...CAN.read], 'review output');
    if (denied) return denied;
    const parsed = ReviewBody.safeParse(await jsonBody(c));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'body';
      return fail(
        c,
        'validate.invalid',
        `invalid review request: \`${field}\`: ${issue?.message ?? 'invalid'}; send \`{ "text": "…" }\``,
      );
    }
    const p = c.get('principal');
    if (p.role === 'agent' && parsed.data.agent !== undefined && parsed.data.agent !== p.agent)
      return fail(
        c,
        'auth.wrong-agent',
        `this token acts for agent \`${p.agent}\`, not \`${parsed.data.agent}\``,
      );
    return c.json(warden.review(parsed.data.text));
  });
}
