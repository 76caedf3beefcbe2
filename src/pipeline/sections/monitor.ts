import type { CompiledPolicy } from '../../policy/compile.js';
import type { Store } from '../../store/store.js';
import type { Assembly } from '../assembly.js';

/**
 * The `monitoring` section: when on (`monitoring.enabled`, which `warden serve` defaults to true),
 * a Monitor observes the pipeline, counts the sandbox's runs, follows the audit stream and
 * delivers alerts. The tighteners other sections add (`parts.tighteners`, read once every section
 * is assembled) take its `tighten-limits` responses. The monitor's module (logs, metrics, traces,
 * alert sinks and their packages) loads only when the section is on.
 */
export async function assembleMonitor(parts: Assembly, policy: CompiledPolicy, store: Store): Promise<void> {
  const config = policy.config.monitoring;
  if (config.enabled === undefined) warnMonitoringOff();
  if (config.enabled !== true) return;
  const { Monitor } = await import('../../monitor/monitor.js');
  const monitor = new Monitor(config, store);
  parts.monitor = monitor;
  parts.observers.push(monitor);
  const metrics = monitor.metrics;
  if (metrics) parts.sandboxListeners.push((run) => metrics.sandboxRun(run));
  parts.attach.push((warden) => {
    for (const tighten of parts.tighteners) monitor.onTighten(tighten);
    return monitor.attach(warden);
  });
  parts.closers.push(() => monitor.close());
}

let warned = false;

/**
 * An embedded Warden (`createWarden`) has monitoring off unless the policy turns it on: no cost
 * alerts, anomaly detection or alert sinks. Said once per process, on stderr, so it is seen; a
 * policy that sets `monitoring.enabled` either way has decided and is not warned. `warden check`
 * reports the same as a failure with `--embedded`.
 */
function warnMonitoringOff(): void {
  if (warned) return;
  warned = true;
  process.stderr.write(
    `${JSON.stringify({ level: 'warn', msg: 'warden: monitoring is off in this embedded Warden: no cost alerts (monitoring.anomalies.costThreshold), anomaly detection or alert sinks; set `monitoring.enabled: true` in the policy (or `false` to silence this)' })}\n`,
  );
}
