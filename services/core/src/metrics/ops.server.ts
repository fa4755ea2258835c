import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VigilMetrics } from './metrics.registry.js';
import type { ReadinessRegistry } from './readiness.registry.js';

/** True when `presented` equals `expected`, compared in constant time (hashes, so lengths do not leak). */
export function tokenMatches(presented: string | undefined, expected: string | undefined): boolean {
  if (!presented || !expected) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer TOKEN` header, if any. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value ?? '');
  return match?.[1];
}

export interface OpsServerOptions {
  port: number;
  /** Bind address; loopback unless told otherwise. */
  host?: string;
  metrics: VigilMetrics;
  readiness: ReadinessRegistry;
  /**
   * VIGIL_METRICS_TOKEN: when set, /metrics needs `Authorization: Bearer` with it; when unset, only
   * a scraper on the same machine (loopback) may read it.
   */
  metricsToken?: string | undefined;
}

export interface OpsServer {
  /** http://host:port it listens on. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(text);
}

/**
 * A tiny HTTP listener for processes without the API (detector, embedder, matcher, ingest):
 * `/metrics` (Prometheus text), `/health` (liveness) and `/ready` (readiness), nothing else.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, { error: { code: 'method_not_allowed', message: 'only GET' } });
      return;
    }
    if (url.pathname === '/health') {
      send(response, 200, { status: 'ok' });
    } else if (url.pathname === '/ready') {
      options.readiness.check().then(
        (report) => send(response, report.ready ? 200 : 503, readinessBody(report)),
        () => send(response, 503, { status: 'not_ready', checks: [] }),
      );
    } else if (url.pathname === '/metrics') {
      const allowed = options.metricsToken
        ? tokenMatches(bearerToken(request.headers.authorization), options.metricsToken)
        : isLoopback(request.socket.remoteAddress);
      if (!allowed) {
        response.setHeader('www-authenticate', 'Bearer');
        send(response, 401, { error: { code: 'unauthorized', message: 'a scrape token is required' } });
        return;
      }
      options.metrics.text().then(
        (text) => {
          response.writeHead(200, {
            'content-type': options.metrics.contentType,
            'cache-control': 'no-store',
          });
          response.end(text);
        },
        () => send(response, 500, { error: { code: 'internal_error', message: 'metrics failed' } }),
      );
    } else {
      send(response, 404, { error: { code: 'not_found', message: 'not found' } });
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The body of `/ready`: `{"status":"ready"|"not_ready","checks":{name:{ok,error?}}}`, and when not
 * ready the contract's `error` naming the failed checks.
 */
export function readinessBody(report: {
  ready: boolean;
  checks: { name: string; ok: boolean; error?: string; advisory?: true }[];
}) {
  const checks: Record<string, { ok: boolean; error?: string; advisory?: true }> = {};
  for (const c of report.checks) {
    checks[c.name] = {
      ok: c.ok,
      ...(c.error ? { error: c.error } : {}),
      ...(c.advisory ? { advisory: true as const } : {}),
    };
  }
  if (report.ready) return { status: 'ready' as const, checks };
  const failed = report.checks
    .filter((c) => !c.ok && !c.advisory)
    .map((c) => `${c.name}: ${c.error ?? 'unavailable'}`);
  return {
    status: 'not_ready' as const,
    checks,
    error: { code: 'not_ready', message: `not ready: ${failed.join(', ')}` },
  };
}
