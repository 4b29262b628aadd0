import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { startTracing, Tracing } from '../../src/tracing/tracing';
import { eventually, signedHeaders, startTestService, TestService } from '../support/testService';
import { startUpvestClient } from '../support/upvestClientSetup';

const REMITTANCE = 'rent for flat 4b, thanks Anna';

/** Every string a span shows: its name, its status and the values of its attributes and of its links' and events'. */
function shownValues(span: ReadableSpan): string[] {
  const attributeSets = [span.attributes, ...span.links.map((link) => link.attributes ?? {}), ...span.events.map((event) => event.attributes ?? {})];
  return [span.name, span.status.message ?? '', ...attributeSets.flatMap((attributes) => Object.values(attributes).map(String))];
}

describe('tracing off', () => {
  it('registers no provider and creates no exporter when OTEL_EXPORTER_OTLP_ENDPOINT is not set', () => {
    expect(startTracing({}, { OTEL_SERVICE_NAME: 'receiver' })).toBeUndefined();
    expect(trace.getTracer('test').startSpan('probe').isRecording()).toBe(false);
  });
});

describe('tracing on', () => {
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;

  beforeAll(() => {
    exporter = new InMemorySpanExporter();
    tracing = startTracing({ exporter }, {}) as Tracing;
  });

  afterAll(async () => {
    await tracing.shutdown();
  });

  beforeEach(() => exporter.reset());

  /** The finished spans, once `done` says that they are all there. */
  async function spansWhen(done: (spans: ReadableSpan[]) => boolean, what: string): Promise<ReadableSpan[]> {
    return eventually(
      async () => {
        await tracing.flush();
        const spans = exporter.getFinishedSpans();
        return done(spans) && spans;
      },
      20000,
      what,
    );
  }

  describe('a signed delivery', () => {
    let harness: TestService;

    beforeAll(async () => {
      harness = await startTestService();
    });

    afterAll(async () => {
      await harness.stop();
    });

    it('is one trace from the HTTP request to the projection transaction of each of its events, and no span holds a secret', async () => {
      const events = [
        withdrawalEvent({ paymentId: 'c3f0c2d4-3333-4b2a-9c3d-000000000001', status: 'NEW', object: { remittance_information: REMITTANCE } }),
        withdrawalEvent({ paymentId: 'c3f0c2d4-3333-4b2a-9c3d-000000000002', status: 'NEW', object: { remittance_information: REMITTANCE } }),
      ];
      const body = batchOf(...events);
      const headers = signedHeaders(body);

      expect((await harness.deliver(body, { headers })).status).toBe(200);
      await eventually(async () => (await harness.projectedEvents()) >= 2, 20000, 'two projected events');
      const spans = await spansWhen((finished) => finished.filter((span) => span.name === 'project event').length >= 2, 'the spans of two projected events');

      const http = spans.find((span) => span.name === 'POST /webhooks/upvest');
      expect(http).toBeDefined();
      const traceId = http!.spanContext().traceId;
      expect(http!.attributes).toMatchObject({ 'http.response.status_code': 200, 'webhook.outcome': 'accepted', 'webhook.events.accepted': 2 });
      const inTrace = spans.filter((span) => span.spanContext().traceId === traceId);
      const childrenOf = (parent: ReadableSpan) => inTrace.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);
      expect(childrenOf(http!).map((span) => span.name)).toEqual(expect.arrayContaining(['verify signature', 'ingest']));

      const transactions = spans.filter((span) => span.name === 'projection transaction');
      for (const event of events) {
        const projection = inTrace.find((span) => span.name === 'project event' && span.attributes['upvest.event.id'] === event.id);
        expect(projection?.attributes).toMatchObject({ 'upvest.event.type': event.type, 'upvest.payment.id': (event.object as { id: string }).id, 'projection.outcome': 'applied' });
        const projectionSpanId = projection!.spanContext().spanId;
        const transaction = transactions.find(
          (span) => span.parentSpanContext?.spanId === projectionSpanId || span.links.some((link) => link.context.spanId === projectionSpanId),
        );
        expect(transaction).toBeDefined();
        // Its Postgres statements, each a span of its own.
        const statements = spans.filter((span) => span.parentSpanContext?.spanId === transaction!.spanContext().spanId).map((span) => span.name);
        expect(statements).toEqual(expect.arrayContaining(['postgres lock payments', 'postgres read current', 'postgres write']));
      }

      const secrets = [REMITTANCE, headers.signature, headers['signature-input']];
      const shown = spans.flatMap(shownValues);
      for (const secret of secrets) expect(shown.filter((value) => value.includes(secret))).toEqual([]);
    });
  });

  it("gives each provider API request a span with its method and path, and never the access token", async () => {
    const setup = await startUpvestClient();
    try {
      await setup.api.verificationKeys();
      const spans = await spansWhen((finished) => finished.filter((span) => span.name.startsWith('upvest api')).length >= 2, 'the spans of two API requests');

      expect(spans.map((span) => [span.name, span.attributes['http.request.method'], span.attributes['url.path'], span.attributes['http.response.status_code']])).toEqual(
        expect.arrayContaining([
          ['upvest api POST', 'POST', '/auth/token', 200],
          ['upvest api GET', 'GET', expect.any(String), 200],
        ]),
      );
      const bearer = setup.exchanges.map((exchange) => exchange.headers.authorization).find((value) => value?.startsWith('Bearer '));
      expect(bearer).toBeDefined();
      const token = bearer!.slice('Bearer '.length);
      expect(spans.flatMap(shownValues).filter((value) => value.includes(token))).toEqual([]);
    } finally {
      await setup.close();
    }
  });
});
