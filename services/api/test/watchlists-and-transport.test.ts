import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { AuditRepository } from '@vigil/core';
import { backendName, selfSignedCertificate } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from './test-app.js';

const SQL_INJECTION = "'; DROP TABLE watchlists; --";

/** Opens a TLS connection with the client's offer limited to `options`; resolves what was agreed. */
function handshake(
  port: number,
  options: tls.ConnectionOptions,
): Promise<{ cipher: string; version: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      resolve({ cipher: socket.getCipher().standardName, version: socket.getProtocol() ?? '' });
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe(`watchlists (${backendName})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { VIGIL_CORS_ORIGINS: 'https://console.example' } });
  });
  afterAll(async () => t?.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: bearer(t.tokens.watchlist_manager),
      payload: payload as never,
    });

  it('creates, lists, reads, renames and deletes a watchlist, audited, with SQL-looking text kept as text', async () => {
    const created = await call('POST', '/watchlists', { name: SQL_INJECTION, description: SQL_INJECTION });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    expect(created.json()).toMatchObject({
      name: SQL_INJECTION,
      description: SQL_INJECTION,
      subjectCount: 0,
    });
    expect((await call('GET', '/watchlists')).json().map((w: { id: string }) => w.id)).toContain(id);
    expect((await call('GET', `/watchlists/${id}`)).json().name).toBe(SQL_INJECTION);
    const renamed = await call('PATCH', `/watchlists/${id}`, { name: 'Renamed' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Renamed', description: SQL_INJECTION });
    expect((await call('DELETE', `/watchlists/${id}`)).statusCode).toBe(204);
    expect((await call('GET', `/watchlists/${id}`)).statusCode).toBe(404);
    const actions = (await new AuditRepository(t.deps.db).list({ targetId: id })).map((e) => e.action);
    expect(actions.sort()).toEqual(['watchlist.create', 'watchlist.delete', 'watchlist.update']);
  });

  it('refuses bad bodies and unknown or malformed ids', async () => {
    for (const body of [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(201) },
      { name: 'ok', owner: 'me' },
      { name: { $gt: '' } },
    ])
      expect((await call('POST', '/watchlists', body)).statusCode, JSON.stringify(body)).toBe(400);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await call('GET', `/watchlists/${unknown}`)).statusCode).toBe(404);
    expect((await call('PATCH', `/watchlists/${unknown}`, { name: 'x' })).statusCode).toBe(404);
    expect((await call('DELETE', `/watchlists/${unknown}`)).statusCode).toBe(404);
    expect((await call('GET', `/watchlists/${unknown}/subjects`)).statusCode).toBe(404);
    expect((await call('GET', `/watchlists/${encodeURIComponent(SQL_INJECTION)}`)).statusCode).toBe(400);
    expect((await call('GET', `/subjects/${unknown}`)).statusCode).toBe(404);
    expect((await call('GET', '/imports/not-a-uuid')).statusCode).toBe(400);
    const { rows } = await t.deps.db.query("SELECT to_regclass('watchlists') AS t");
    expect(rows[0]).toEqual({ t: 'watchlists' });
  });

  it('grants CORS to configured origins only', async () => {
    const allowed = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/watchlists',
      headers: { origin: 'https://console.example', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example');
    const refused = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/watchlists',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe(`HTTPS (${backendName})`, () => {
  let t: TestApp | undefined;
  let dir: string;
  let address: string;
  let port: number;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tls-'));
    const certificate = selfSignedCertificate(dir);
    t = await createTestApp({
      env: { VIGIL_TLS_CERT: certificate.cert, VIGIL_TLS_KEY: certificate.key },
    });
    address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(address).port);
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with HSTS when a certificate and key are configured', async () => {
    expect(address.startsWith('https://')).toBe(true);
    const response = await new Promise<{ status: number; hsts: string | undefined; body: string }>(
      (resolve, reject) => {
        https
          .get(
            `${address}/health`,
            {
              ca: fs.readFileSync(path.join(dir, 'cert.pem')),
              servername: 'localhost',
              checkServerIdentity: () => undefined,
            },
            (res) => {
              let body = '';
              res.on('data', (chunk) => {
                body += chunk;
              });
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  hsts: res.headers['strict-transport-security'] as string,
                  body,
                }),
              );
            },
          )
          .on('error', reject);
      },
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'ok' });
    expect(response.hsts).toContain('max-age=');
  });

  // Security review, issue #22 item 11: TLS 1.2 offered Node's default CBC (non-AEAD) suites.
  it('refuses a TLS 1.2 client that offers only CBC suites', async () => {
    for (const ciphers of ['ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384'])
      await expect(handshake(port, { ciphers, maxVersion: 'TLSv1.2' }), ciphers).rejects.toThrow();
  });

  it('agrees AES-GCM and ChaCha20-Poly1305 on TLS 1.2, and TLS 1.3 by default', async () => {
    expect(await handshake(port, { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).toEqual({
      cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      version: 'TLSv1.2',
    });
    expect(
      (await handshake(port, { ciphers: 'ECDHE-RSA-CHACHA20-POLY1305', maxVersion: 'TLSv1.2' })).cipher,
    ).toBe('TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256');
    expect((await handshake(port, {})).version).toBe('TLSv1.3');
  });

  it('refuses TLS 1.1', async () => {
    await expect(
      handshake(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }),
    ).rejects.toThrow();
  });
});
