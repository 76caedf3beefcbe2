import {
  type Attributes,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { DecisionEvent, ResultEvent } from '../contract/observer.js';
import { type MonitoringConfig, resolveSecret } from '../policy/sections/monitor.js';

export interface ActionTracer {
  decided(event: DecisionEvent): void;
  finished(event: ResultEvent): void;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * OpenTelemetry spans for each action: a `warden.action` root with the GenAI semantic convention
 * attributes that apply to a tool call (`gen_ai.operation.name = execute_tool`, `gen_ai.tool.name`,
 * `gen_ai.agent.name`, `gen_ai.conversation.id`), a child per pipeline stage, and for `run()` the
 * approval wait and the execution. Spans are built after the fact from the timings the pipeline
 * took, and exported in batches over OTLP/HTTP (JSON) off the hot path.
 */
export function createActionTracer(
  config: MonitoringConfig['traces'],
  exporter?: SpanExporter,
): ActionTracer | undefined {
  if (!config.endpoint && !exporter) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers)) {
    headers[name] = resolveSecret(value, `monitoring.traces.headers.${name}`);
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(exporter ?? new LazyOtlpExporter(config.endpoint as string, headers), {
        scheduledDelayMillis: 1000,
        maxQueueSize: 8192,
        maxExportBatchSize: 512,
      }),
    ],
  });
  const tracer = provider.getTracer('warden', '0.1.0');
  const ratio = config.sampleRatio;
  // Sampled per action, before any span exists: an unsampled action costs one random number.
  const sampled = new WeakSet<DecisionEvent>();
  return {
    decided(event) {
      if (ratio < 1 && Math.random() >= ratio) return;
      // A run() that goes on to approval and execution is traced once it finishes.
      if (event.mode !== 'run' || event.decision.effect === 'deny') emit(tracer, event);
      else sampled.add(event);
    },
    finished(event) {
      if (ratio < 1 && !sampled.has(event.decided)) return;
      emit(tracer, event.decided, event);
    },
    flush: () => provider.forceFlush(),
    close: () => provider.shutdown(),
  };
}

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];
/** `ExportResultCode.FAILED` of `@opentelemetry/core`, which is not a dependency of its own. */
const EXPORT_FAILED = 1;

/**
 * The OTLP/HTTP exporter, loaded when traces are configured rather than on every start: the
 * package and its protobuf tables take ~70 ms to load. Spans batched before it has loaded wait
 * for it; if it cannot load, each export reports the failure to the span processor.
 */
class LazyOtlpExporter implements SpanExporter {
  readonly #exporter: Promise<SpanExporter>;

  constructor(url: string, headers: Record<string, string>) {
    this.#exporter = import('@opentelemetry/exporter-trace-otlp-http').then(
      ({ OTLPTraceExporter }) => new OTLPTraceExporter({ url, headers }),
    );
    this.#exporter.catch(() => {}); // reported by each export
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#exporter.then(
      (exporter) => exporter.export(spans, done),
      (error: Error) => done({ code: EXPORT_FAILED, error }),
    );
  }

  async shutdown(): Promise<void> {
    await (await this.#exporter.catch(() => undefined))?.shutdown();
  }

  async forceFlush(): Promise<void> {
    await (await this.#exporter.catch(() => undefined))?.forceFlush?.();
  }
}

function emit(tracer: Tracer, d: DecisionEvent, r?: ResultEvent): void {
  const a = d.action;
  const input = d.input as { agent?: unknown; type?: unknown } | null;
  const decision = r?.decision ?? d.decision;
  const attributes: Attributes = {
    'gen_ai.operation.name': 'execute_tool',
    'warden.mode': d.mode,
    'warden.action.id': decision.id,
    'warden.decision.effect': decision.effect,
    'warden.decision.risk': decision.risk,
  };
  const agent = a?.agent ?? (typeof input?.agent === 'string' ? input.agent : undefined);
  const type = a?.type ?? (typeof input?.type === 'string' ? input.type : undefined);
  if (agent) attributes['gen_ai.agent.name'] = agent;
  if (type) attributes['gen_ai.tool.name'] = type;
  if (a) attributes['gen_ai.tool.call.id'] = a.id;
  if (a?.session) attributes['gen_ai.conversation.id'] = a.session;
  if (a?.user) attributes['enduser.id'] = a.user;
  if (decision.rule) attributes['warden.decision.rule'] = decision.rule;
  const first = decision.reasons[0];
  if (first) attributes['warden.decision.reason'] = first.code;
  if (r) attributes['warden.status'] = r.status;
  if (a?.cost?.usd !== undefined) attributes['warden.cost.usd'] = a.cost.usd;

  const root = tracer.startSpan(
    'warden.action',
    { kind: SpanKind.INTERNAL, startTime: d.start, attributes },
    ROOT_CONTEXT,
  );
  const parent = trace.setSpan(ROOT_CONTEXT, root);
  for (const s of d.stages) {
    tracer
      .startSpan(
        `warden.stage.${s.stage}`,
        { startTime: s.start, attributes: { 'warden.stage': s.stage } },
        parent,
      )
      .end(s.end);
  }
  const lastStage = d.stages.at(-1)?.end ?? d.start;
  if (d.mode !== 'check') {
    tracer.startSpan('warden.record', { startTime: lastStage }, parent).end(d.end);
  }
  if (r) {
    if (d.decision.effect === 'ask') {
      tracer
        .startSpan(
          'warden.approval',
          { startTime: d.end, attributes: { 'warden.decision.effect': decision.effect } },
          parent,
        )
        .end(r.approvalEnd);
    }
    if (r.executeMs !== undefined) {
      const exec = tracer.startSpan(
        'warden.execute',
        { startTime: r.approvalEnd, attributes: { 'warden.status': r.status } },
        parent,
      );
      if (r.status !== 'completed')
        exec.setStatus({ code: SpanStatusCode.ERROR, message: r.reason?.code ?? r.status });
      exec.end(r.end);
    }
  }
  if (decision.effect === 'deny' || (r && r.status !== 'completed')) {
    root.setStatus({ code: SpanStatusCode.ERROR, message: (r?.reason ?? first)?.code ?? 'denied' });
  }
  root.end(r?.end ?? d.end);
}
