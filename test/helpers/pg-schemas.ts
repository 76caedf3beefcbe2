import { after } from 'node:test';
import pg from 'pg';

/** The PostgreSQL the tests use (started by scripts/services.sh where missing). */
export const PG_URL = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A new schema per call, named `<prefix>_<pid>_<time>_<n>` so that test files running in
 * parallel never see each other's rows; every schema handed out is dropped when the file ends.
 */
export function pgSchemas(prefix: string): () => string {
  const run = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const schemas: string[] = [];
  after(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  return () => {
    const schema = `${run}_${schemas.length + 1}`;
    schemas.push(schema);
    return schema;
  };
}
