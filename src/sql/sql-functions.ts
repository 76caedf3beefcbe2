/**
 * Functions that read or write server files, reach other servers, run SQL given as a string
 * (invisible to the parser), signal backends or stall the server. Matched on the last name part,
 * so a schema prefix (`pg_catalog.pg_read_file`) changes nothing. A trailing `*` is a prefix.
 */
export const DANGEROUS_FUNCTIONS = [
  'pg_read_file',
  'pg_read_binary_file',
  'pg_stat_file',
  'pg_ls_*',
  'pg_file_*',
  'pg_logdir_ls',
  'lo_import',
  'lo_export',
  'lo_from_bytea',
  'lo_put',
  'lo_unlink',
  'dblink*',
  'pg_sleep*',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_promote',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_advisory_lock*',
  'pg_advisory_xact_lock*',
  'set_config',
  'query_to_xml*',
  'query_to_xmlschema',
  'cursor_to_xml*',
  'database_to_xml*',
  'schema_to_xml*',
  'pg_replication_origin_*',
  'pg_create_logical_replication_slot',
  'pg_create_physical_replication_slot',
  'pg_logical_emit_message',
  'pg_import_system_collations',
  // SQLite: extensions and the shell's file helpers
  'load_extension',
  'readfile',
  'writefile',
  'edit',
  'fts3_tokenizer',
] as const;

const exactDangerous = new Set<string>(DANGEROUS_FUNCTIONS.filter((f) => !f.endsWith('*')));
const dangerousPrefixes = DANGEROUS_FUNCTIONS.filter((f) => f.endsWith('*')).map((f) => f.slice(0, -1));

export function isDangerousFunction(name: string): boolean {
  return exactDangerous.has(name) || dangerousPrefixes.some((p) => name.startsWith(p));
}
