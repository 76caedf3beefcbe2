import { rules } from '@secretlint/secretlint-rule-preset-recommend';

/** One secret a maintained rule found: the rule's short name, its message id and where it is. */
export interface RuleHit {
  /** The secretlint rule without its scope: `aws`, `github`, `privatekey`, … */
  rule: string;
  /** The rule's message id: `AWSSecretAccessKey`, `GITHUB_TOKEN`, … */
  detail: string;
  start: number;
  end: number;
}

type Handler = { file?: (source: unknown) => unknown };

/** Rules that only judge binary files or filter other rules' reports: nothing to run on text. */
const SKIPPED = new Set(['filter-comments']);

/**
 * secretlint's recommended rule set, run synchronously. `lintSource` is async (it awaits every
 * rule through an event emitter) and costs a promise per rule per scan; the rules themselves
 * are synchronous regex scanners over `source.content`, so each rule is created once, at load,
 * against a minimal context, and its `file` handler is called directly on the hot path.
 * Rule options: the AWS rule also scans access key ids (`AKIA…`), off by default in secretlint.
 */
export class SecretlintRules {
  private readonly handlers: Array<{ rule: string; file: (source: unknown) => unknown }> = [];
  private sink: RuleHit[] = [];

  constructor() {
    for (const creator of rules) {
      const rule = creator.meta.id.replace(/^@secretlint\/secretlint-rule-/, '');
      if (SKIPPED.has(rule)) continue;
      const context = {
        sharedOptions: {},
        createTranslator: () => (messageId: string, data: unknown) => ({
          message: messageId,
          messageId,
          data,
        }),
        ignore: () => undefined,
        report: (d: { message: { messageId?: string }; range: readonly [number, number] }) => {
          this.sink.push({ rule, detail: d.message.messageId ?? rule, start: d.range[0], end: d.range[1] });
        },
      };
      const options = rule === 'aws' ? { enableIDScanRule: true } : {};
      const handler = (creator.create as (c: unknown, o: unknown) => Handler)(context, options);
      if (handler.file) this.handlers.push({ rule, file: handler.file.bind(handler) });
    }
  }

  /** Every hit in `content`, in the rules' order. Never throws: a rule that crashes is skipped. */
  scan(content: string): RuleHit[] {
    const source = { content, filePath: undefined, ext: '', contentType: 'text' };
    const out: RuleHit[] = [];
    this.sink = out;
    for (const { file } of this.handlers) {
      try {
        const done = file(source);
        // A rule that went async (only binary-file checks do) cannot report into this scan.
        if (done instanceof Promise) done.catch(() => undefined);
      } catch {
        // INVARIANT: a broken rule never hides the others' findings.
      }
    }
    this.sink = [];
    return out;
  }
}
