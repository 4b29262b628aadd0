import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import request from 'supertest';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { startTracing, Tracing } from '../../src/tracing/tracing';
import { eventually, signedHeaders, startTestService, TestService } from '../support/testService';
import { startUpvestClient } from '../support/upvestClientSetup';
import { Pool } from 'pg';
import { PushSubscriptions } from '../../src/push/PushSubscriptions';
import { PushSubscriberProcess } from '../../testkit/PushSubscriberProcess';

const REMITTANCE = 'rent for flat 4b, thanks Anna';

/** Every string a span shows: its name, its status and the values of its attributes and of its links' and events'. */
function shownValues(span: ReadableSpan): string[] {
  const attributeSets = [span.attributes, ...span.links.map((link) => link.attributes ?? {}), ...span.events.map((event) => event.attributes ?? {})];
  return [span.name, span.status.message ?? '', ...attributeSets.flatMap((attributes) => Object.values(attributes).map(String))];
}

describe('tracing off', () => {
  it('registers no provider and creates no exporter when OTEL_EXPORTER_OTLP_ENDPOINT is not set', async () => {
    expect(await startTracing({}, { OTEL_SERVICE_NAME: 'receiver' })).toBeUndefined();
    expect(trace.getTracer('test').startSpan('probe').isRecording()).toBe(false);
  });
});

describe('tracing on', () => {
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;

  beforeAll(async () => {
    exporter = new InMemorySpanExporter();
    tracing = (await startTracing({ exporter }, {})) as Tracing;
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

  describe('the trace context of an incoming request', () => {
    const READ_TOKEN = 'read-api-token-for-the-trace-test';
    const ADMIN_TOKEN = 'admin-token-for-the-trace-test-0123';
    // As an ingress with tracing sends them: the caller's trace and span, and its vendor state.
    const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
    const CALLER_SPAN = '00f067aa0ba902b7';
    const callerHeaders = { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: 'ingress=t61rcWkgMzE' };
    let harness: TestService;

    beforeAll(async () => {
      harness = await startTestService({ READ_API_TOKEN: READ_TOKEN, ADMIN_TOKEN });
    });

    afterAll(async () => {
      await harness.stop();
    });

    /** The finished server span of the request the caller's trace led to, once it is there. */
    async function serverSpanOfCaller(name: string): Promise<ReadableSpan> {
      const spans = await spansWhen((finished) => finished.some((span) => span.name === name && span.spanContext().traceId === CALLER_TRACE), name);
      return spans.find((span) => span.name === name && span.spanContext().traceId === CALLER_TRACE) as ReadableSpan;
    }

    function expectContinuesTheCaller(span: ReadableSpan, route: string, status: number): void {
      expect(span.kind).toBe(SpanKind.SERVER);
      expect(span.parentSpanContext?.spanId).toBe(CALLER_SPAN);
      expect(span.spanContext().traceState?.get('ingress')).toBe('t61rcWkgMzE');
      expect(span.attributes).toMatchObject({ 'http.request.method': route.split(' ')[0], 'http.route': route.split(' ')[1], 'http.response.status_code': status });
    }

    it('continues it in a delivery, whose verification and ingest are children of that span', async () => {
      const body = batchOf(withdrawalEvent());

      expect((await harness.deliver(body, { headers: callerHeaders })).status).toBe(200);

      const http = await serverSpanOfCaller('POST /webhooks/upvest');
      expectContinuesTheCaller(http, 'POST /webhooks/upvest', 200);
      const children = exporter.getFinishedSpans().filter((span) => span.parentSpanContext?.spanId === http.spanContext().spanId);
      expect(children.map((span) => span.name)).toEqual(expect.arrayContaining(['verify signature', 'ingest']));
    });

    it('continues it in the read API, named by the route pattern, never the URL, its id or query, or the token', async () => {
      const paymentId = 'c3f0c2d4-3333-4b2a-9c3d-0000000000aa';
      const response = await request(harness.baseUrl)
        .get(`/v1/withdrawals/${paymentId}?unused=1`)
        .set({ ...callerHeaders, authorization: `Bearer ${READ_TOKEN}` });
      expect(response.status).toBe(400);

      const span = await serverSpanOfCaller('GET /v1/withdrawals/:id');
      expectContinuesTheCaller(span, 'GET /v1/withdrawals/:id', 400);
      expect(shownValues(span).filter((value) => value.includes(paymentId) || value.includes('unused') || value.includes(READ_TOKEN))).toEqual([]);
    });

    it('covers the long-poll wait of the change feed', async () => {
      const cursor = (await request(harness.baseUrl).get('/v1/changes?from=now').set('authorization', `Bearer ${READ_TOKEN}`)).body.next as string;
      // A payment without changes: the request waits the whole second.
      const response = await request(harness.baseUrl)
        .get(`/v1/changes?after=${cursor}&wait=1&payment_id=c3f0c2d4-3333-4b2a-9c3d-0000000000bb`)
        .set({ ...callerHeaders, authorization: `Bearer ${READ_TOKEN}` });
      expect(response.body.changes).toEqual([]);

      const span = await serverSpanOfCaller('GET /v1/changes');
      expectContinuesTheCaller(span, 'GET /v1/changes', 200);
      const [seconds, nanoseconds] = span.duration;
      expect(seconds * 1000 + nanoseconds / 1e6).toBeGreaterThanOrEqual(900);
      expect(shownValues(span).filter((value) => value.includes(cursor) || value.includes('wait='))).toEqual([]);
    });

    it('continues it in the admin API, and never shows its token', async () => {
      const response = await request(harness.baseUrl).get('/admin/jobs/failed?limit=5').set({ ...callerHeaders, authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(response.status).toBe(200);

      const span = await serverSpanOfCaller('GET /admin/jobs/failed');
      expectContinuesTheCaller(span, 'GET /admin/jobs/failed', 200);
      expect(exporter.getFinishedSpans().flatMap(shownValues).filter((value) => value.includes(ADMIN_TOKEN))).toEqual([]);
    });

    it('names a request that matched no route by its method alone', async () => {
      expect((await request(harness.baseUrl).get('/no/such/path/4711').set(callerHeaders)).status).toBe(404);

      const span = await serverSpanOfCaller('GET');
      expect(span.attributes['http.route']).toBeUndefined();
      expect(shownValues(span).filter((value) => value.includes('4711'))).toEqual([]);
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

  it('sends a push with a client span whose context reaches the subscriber in traceparent, and no span holds the secret or the URL', async () => {
    const harness = await startTestService({ PUSH_ALLOWED_TARGETS: '127.0.0.1', PUSH_POLL_INTERVAL_MS: '100' });
    const subscriber = await PushSubscriberProcess.start('traced subscriber');
    const pool = new Pool({ connectionString: harness.database.url, max: 1 });
    try {
      const url = `${subscriber.url}?token=in-the-url-4711`;
      const { subscription, secret } = await new PushSubscriptions(pool).add({ url });
      await subscriber.control({ secrets: [secret] });
      expect((await harness.deliver(batchOf(withdrawalEvent({ paymentId: 'c3f0c2d4-3333-4b2a-9c3d-000000000009', status: 'NEW' })))).status).toBe(200);
      const [message] = await eventually(async () => {
        const acknowledged = await subscriber.acknowledged();
        return acknowledged.length > 0 && acknowledged;
      }, 20000, 'the push at the subscriber');
      const spans = await spansWhen((finished) => finished.some((span) => span.name === 'push delivery'), 'the push delivery span');

      const push = spans.find((span) => span.name === 'push delivery')!;
      expect(push.kind).toBe(SpanKind.CLIENT);
      expect(push.attributes).toMatchObject({ 'upvest.push.subscription': subscription.id, 'upvest.push.attempt': 1, 'http.response.status_code': 204 });
      expect(message.traceparent).toBe(`00-${push.spanContext().traceId}-${push.spanContext().spanId}-01`);
      const shown = spans.flatMap(shownValues);
      expect(shown.filter((value) => value.includes(secret.slice(6)) || value.includes('4711'))).toEqual([]);
    } finally {
      await pool.end();
      await subscriber.stop();
      await harness.stop();
    }
  });
});
