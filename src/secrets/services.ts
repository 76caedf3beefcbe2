import { compileHostPatterns } from '../lib/glob.js';

/**
 * Where each kind of secret is meant to go: its own service's hosts. A key sent to its own API
 * is the key in use; sent anywhere else, it is a key leaving. Rules with no service (a private
 * key, a JWT, a random-looking value, a vault token) are never at home outside Warden's executors.
 */
export const SECRET_SERVICES: Readonly<Record<string, readonly string[]>> = {
  aws: ['amazonaws.com', '*.amazonaws.com', '*.aws.amazon.com', '*.amazonaws.com.cn'],
  gcp: ['googleapis.com', '*.googleapis.com', '*.google.com'],
  'google-api-key': ['googleapis.com', '*.googleapis.com'],
  npm: ['registry.npmjs.org', '*.npmjs.org', '*.npmjs.com'],
  slack: ['slack.com', '*.slack.com'],
  openai: ['api.openai.com', '*.openai.com'],
  anthropic: ['api.anthropic.com', '*.anthropic.com'],
  groq: ['api.groq.com'],
  huggingface: ['huggingface.co', '*.huggingface.co'],
  linear: ['api.linear.app', '*.linear.app'],
  notion: ['api.notion.com', '*.notion.com'],
  sendgrid: ['api.sendgrid.com', '*.sendgrid.com', '*.sendgrid.net'],
  shopify: ['*.myshopify.com', '*.shopify.com'],
  github: ['github.com', '*.github.com', '*.githubusercontent.com'],
  gitlab: ['gitlab.com', '*.gitlab.com'],
  grafana: ['grafana.com', '*.grafana.com', '*.grafana.net'],
  '1password': ['*.1password.com', '*.1password.eu', '*.1password.ca'],
  vercel: ['api.vercel.com', '*.vercel.com'],
  databricks: ['*.cloud.databricks.com', '*.azuredatabricks.net', '*.gcp.databricks.com'],
  docker: ['docker.io', '*.docker.io', '*.docker.com'],
  figma: ['api.figma.com', '*.figma.com'],
  stripe: ['api.stripe.com', '*.stripe.com'],
};

export type HostTest = (host: string) => boolean;

/** The services, with the policy's additions (`secrets.services`), compiled to host tests at load. */
export function compileServices(extra: Readonly<Record<string, readonly string[]>>): Map<string, HostTest> {
  const out = new Map<string, HostTest>();
  for (const rule of new Set([...Object.keys(SECRET_SERVICES), ...Object.keys(extra)])) {
    const hosts = [...(SECRET_SERVICES[rule] ?? []), ...(extra[rule] ?? [])];
    if (hosts.length > 0) out.set(rule, compileHostPatterns(hosts));
  }
  return out;
}
