import type { AuditEntry, AuditRecord } from '../store/store.js';

/**
 * Where the pipeline sends audit entries. `append` resolves once the record is durable; a
 * rejection means it is not, and the caller must fail closed.
 */
export interface AuditSink {
  append(entry: AuditEntry): Promise<AuditRecord>;
}
