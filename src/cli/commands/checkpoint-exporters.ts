import { type CheckpointExporter, s3Exporter, webhookExporter } from '../../store/checkpoint-export.js';
import { CliError } from '../common.js';

/** The `warden serve` flags that name where checkpoints are exported. */
export interface CheckpointExportFlags {
  checkpointWebhook?: string;
  checkpointWebhookSecretEnv: string;
  checkpointS3?: string;
  checkpointS3Endpoint?: string;
  checkpointS3Region?: string;
}

/** The exporters the flags (and the AWS environment variables) name; a missing secret or credential stops the start. */
export function checkpointExporters(
  flags: CheckpointExportFlags,
  env: Record<string, string | undefined>,
): CheckpointExporter[] {
  const exporters: CheckpointExporter[] = [];
  if (flags.checkpointWebhook) {
    if (!URL.canParse(flags.checkpointWebhook)) {
      throw new CliError(`--checkpoint-webhook \`${flags.checkpointWebhook}\` is not a URL`);
    }
    const secret = env[flags.checkpointWebhookSecretEnv];
    if (!secret) {
      throw new CliError(
        `--checkpoint-webhook needs its signing secret in $${flags.checkpointWebhookSecretEnv} (or name another variable with --checkpoint-webhook-secret-env)`,
      );
    }
    exporters.push(webhookExporter({ url: flags.checkpointWebhook, secret }));
  }
  if (flags.checkpointS3) {
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(flags.checkpointS3);
    if (!match) {
      throw new CliError(
        `--checkpoint-s3 \`${flags.checkpointS3}\`: expected s3://BUCKET or s3://BUCKET/PREFIX`,
      );
    }
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new CliError(
        '--checkpoint-s3 needs credentials in $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY',
      );
    }
    const endpoint = flags.checkpointS3Endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    if (endpoint !== undefined && !URL.canParse(endpoint)) {
      throw new CliError(`the S3 endpoint \`${endpoint}\` is not a URL`);
    }
    exporters.push(
      s3Exporter({
        bucket: match[1] as string,
        prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, ''),
        region: flags.checkpointS3Region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
        accessKeyId,
        secretAccessKey,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        ...(endpoint ? { endpoint } : {}),
      }),
    );
  }
  return exporters;
}
