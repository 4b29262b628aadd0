import http from 'node:http';
import https from 'node:https';
import { Socket } from 'node:net';
import { oneLine } from '../shared/oneLine';
import { SubscriptionUrlPolicy, UrlRefusal } from './SubscriptionUrlPolicy';
import { checkedLookup } from './targetAddresses';

/** Why an attempt failed: the `reason` label of upvest_push_failures_total. */
export const FAILURE_REASONS = ['status_3xx', 'status_4xx', 'status_5xx', 'timeout', 'connection', 'refused_target', 'insecure_url'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** How one POST to the subscriber went. */
export type AttemptResult =
  | { delivered: true; responseCode: number }
  | { delivered: false; responseCode: number | null; reason: FailureReason; error: string };

export interface EndpointOptions {
  urls: SubscriptionUrlPolicy;
  connectTimeoutMs: number;
  /** The whole attempt, from connecting to the end of the answer. */
  timeoutMs: number;
  /** Connections kept to the subscriber: the lane's concurrency. */
  maxSockets: number;
}

/** Enough of an answer to say what went wrong in `last_error`; the rest is not read. */
const RESPONSE_READ_LIMIT = 4096;
const ERROR_TEXT_LIMIT = 200;

const USER_AGENT = 'upvest-webhook-receiver (Standard Webhooks)';

/**
 * One subscriber's URL and the connections to it. Every connection is checked when it is made:
 * the URL's host if it is an address, every address its name resolves to otherwise (so that a
 * name that changes its answer, DNS rebinding, cannot reach an internal address). Redirects are
 * not followed: a 3xx is a failed attempt.
 */
export class SubscriberEndpoint {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly refusal: UrlRefusal | undefined;

  constructor(
    url: string,
    private readonly options: EndpointOptions,
  ) {
    this.url = new URL(url);
    const secure = this.url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, lookup: checkedLookup(options.urls.allowedTargets) };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.refusal = options.urls.refusalOf(this.url);
  }

  /** POSTs the message; never throws. */
  post(headers: Record<string, string>, body: string): Promise<AttemptResult> {
    if (this.refusal !== undefined) return Promise.resolve({ delivered: false, responseCode: null, ...this.refusal });
    const send = this.url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(result);
      };
      const fail = (reason: FailureReason, error: string, responseCode: number | null = null) =>
        finish({ delivered: false, responseCode, reason, error: oneLine(error).slice(0, ERROR_TEXT_LIMIT) });
      const request = send(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': USER_AGENT },
      });
      const deadline = setTimeout(() => {
        fail('timeout', `no complete answer within ${this.options.timeoutMs} ms`);
        request.destroy();
      }, this.options.timeoutMs);
      request.on('socket', (socket) => this.limitConnectTime(socket, request));
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'refused_target') fail('refused_target', error.message);
        else if (error.code === 'connect_timeout') fail('timeout', error.message);
        else fail('connection', error.message);
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
          // A large answer is not read on: its connection is dropped instead of reused.
          if (text.length > RESPONSE_READ_LIMIT) response.destroy();
        });
        const done = () => {
          if (status >= 200 && status < 300) finish({ delivered: true, responseCode: status });
          else fail(status >= 500 ? 'status_5xx' : status >= 400 ? 'status_4xx' : 'status_3xx', `HTTP ${status}: ${text}`, status);
        };
        response.on('end', done);
        response.on('close', done);
        response.on('error', () => undefined);
      });
      request.end(body);
    });
  }

  /** Closes the kept connections. */
  close(): void {
    this.agent.destroy();
  }

  /** A new connection that is not made within the connect timeout ends the attempt. */
  private limitConnectTime(socket: Socket, request: http.ClientRequest): void {
    if (!socket.connecting) return;
    const timer = setTimeout(() => {
      request.destroy(Object.assign(new Error(`no connection within ${this.options.connectTimeoutMs} ms`), { code: 'connect_timeout' }));
    }, this.options.connectTimeoutMs);
    socket.once(this.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  }
}
