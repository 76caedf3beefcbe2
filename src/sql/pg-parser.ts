/**
 * libpg-query (PostgreSQL's parser compiled to WebAssembly), imported and instantiated on the
 * first `loadSqlParser()` rather than when Warden's modules load: a Warden whose policy never
 * lets an agent run SQL does not pay for it at start. After the load, parsing is synchronous.
 */
export type PgQuery = Pick<typeof import('libpg-query'), 'loadModule' | 'parseSync' | 'parsePlPgSQLSync'>;

let parser: PgQuery | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads the parser once; later calls share the first attempt (a failure stays a failure, so every
 * SQL action is refused alike). `from` replaces the package, for tests of a failing load.
 */
export function loadSqlParser(from: () => Promise<PgQuery> = () => import('libpg-query')): Promise<void> {
  loading ??= (async () => {
    const module = await from();
    await module.loadModule();
    parser = module;
  })();
  return loading;
}

/** Whether `loadSqlParser()` has completed: SQL can be parsed synchronously. */
export function sqlParserLoaded(): boolean {
  return parser !== undefined;
}

/** The loaded parser; throws (the callers deny) when `loadSqlParser()` has not completed. */
export function pgQuery(): PgQuery {
  if (!parser) throw new Error('the SQL parser is not loaded; call loadSqlParser() first');
  return parser;
}
