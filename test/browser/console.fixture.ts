/**
 * The start-up every console test in headless Chromium shares: the console built as `npm start` serves
 * it, the whole system (`startSystem`, all roles) on the test backends, an admin token for set-up
 * calls, and a Chromium whose pages record CSP violations and 404s.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DataCipher, loadConfig, loadDataCipher } from '@vigil/core';
import { createTestDatabase, type TestDatabase, uniqueToken } from '@vigil/core/testing';
import { type System, startSystem } from '@vigil/system';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import {
  type ApiCall,
  authoriseDeployment,
  createAuthoriser,
} from '../../services/api/test/authorisation.fixture.js';
import {
  createDeployment,
  removeAlertConsumer,
  type TestDeployment,
} from '../../services/api/test/realtime-fixtures.js';

export const CHROMIUM = '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ConsoleHarness {
  system: System;
  /** A temporary folder for the test's files, removed by `stop`. */
  dir: string;
  adminToken: string;
  /** CSP violations any page reported, as `page name: message`. */
  cspViolations: string[];
  /** Responses with status 404, as `page name: url`. */
  notFound: string[];
  /** A new browser context at `viewport` with the console open. */
  page(name: string, viewport?: { width: number; height: number }): Promise<Page>;
  login(p: Page, username: string, password: string): Promise<void>;
  /** An API call as the admin; throws on a status other than 2xx. */
  call<T>(method: string, url: string, body?: unknown): Promise<T>;
  /** Creates a user through the API as the admin. */
  createUser(username: string, password: string, role: string): Promise<{ id: string }>;
  /**
   * Authorises a deployment through the API (authorisation.fixture): its entries approved, the
   * request made as the admin (urgent when asked) and granted by an authoriser user created on first
   * use, unless `grant` is false. Returns the request.
   */
  authorise(deploymentId: string, options?: { urgent?: boolean; grant?: boolean }): Promise<{ id: string }>;
  /** The authoriser's decision on a pending request, through the API. */
  decide(authorisationId: string, decision: 'granted' | 'refused', rationale: string): Promise<void>;
  /**
   * A deployment with a camera and a listed subject, stopped (its made-up camera is not for the ingest
   * to run; its alerts still list and stream), and the data cipher its alert crops are sealed with.
   */
  stoppedDeployment(name: string): Promise<{ deployment: TestDeployment; cipher: DataCipher }>;
  /**
   * A deployment asked for urgently with its list, that ran and was stopped by hand before the
   * authoriser's decision: refusing `request` now purges its alerts.
   */
  undecidedDeployment(name: string): Promise<{ deployment: TestDeployment; request: { id: string } }>;
  /** A full-page PNG under `test-artifacts/browser/<folder>/<name>.png`. */
  shot(p: Page, name: string): Promise<void>;
  /** The page at desktop size (`<name>-desktop.png`), then at phone size (`<name>-phone.png`), then back. */
  shots(p: Page, name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the console, starts the system and Chromium; `artifacts` names the screenshot folder. */
export async function startConsoleHarness(options: {
  artifacts: string;
  adminPassword: string;
}): Promise<ConsoleHarness> {
  const artifacts = path.join(root, 'test-artifacts', options.artifacts);
  fs.mkdirSync(artifacts, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-browser-'));
  const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], {
    cwd: path.join(root, 'services/console'),
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`console build failed: ${build.stderr}`);
  const consumer = `browser-${uniqueToken()}`;
  const testDb: TestDatabase = await createTestDatabase();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    VIGIL_DATA_DIR: path.join(dir, 'data'),
    VIGIL_ADMIN_PASSWORD: options.adminPassword,
    VIGIL_DATA_KEY: randomBytes(32).toString('base64'),
    VIGIL_ALERT_CONSUMER: consumer,
    LOG_LEVEL: 'warn',
    ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
    ...(process.env.NATS_URL ? { NATS_URL: process.env.NATS_URL } : {}),
  });
  const system = await startSystem({ config, roles: ['all'] });
  const url = system.url;
  if (!url) throw new Error('the system started without its HTTP server');
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: options.adminPassword }),
  });
  const adminToken = ((await login.json()) as { token: string }).token;
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  const contexts: BrowserContext[] = [];
  const cspViolations: string[] = [];
  const notFound: string[] = [];

  async function call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(`${url}/api/v1${route}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  const as =
    (token: string): ApiCall =>
    async (method, route, body) => {
      const response = await fetch(`${url}/api/v1${route}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : undefined };
    };
  let authoriser: Promise<ApiCall> | undefined;
  const authorise: ConsoleHarness['authorise'] = async (deploymentId, options = {}) => {
    authoriser ??= createAuthoriser(as(adminToken), as, 'fixture-authoriser');
    return authoriseDeployment(as(adminToken), await authoriser, deploymentId, options);
  };

  async function shot(p: Page, name: string): Promise<void> {
    await p.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  }

  return {
    system,
    dir,
    adminToken,
    cspViolations,
    notFound,
    async page(name, viewport = DESKTOP) {
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      const p = await context.newPage();
      p.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text()))
          cspViolations.push(`${name}: ${message.text()}`);
      });
      p.on('response', (response) => {
        if (response.status() === 404) notFound.push(`${name}: ${response.url()}`);
      });
      await p.goto(url);
      return p;
    },
    async login(p, username, password) {
      await p.fill('#username', username);
      await p.fill('#password', password);
      await p.click('#login-form button[type=submit]');
      await p.waitForSelector('#whoami');
    },
    call,
    createUser: (username, password, role) => call('POST', '/users', { username, password, role }),
    authorise,
    async decide(authorisationId, decision, rationale) {
      authoriser ??= createAuthoriser(as(adminToken), as, 'fixture-authoriser');
      const response = await (await authoriser)('POST', `/authorisations/${authorisationId}/decision`, {
        decision,
        rationale,
      });
      if (response.status !== 200)
        throw new Error(`decision: ${response.status} ${JSON.stringify(response.json).slice(0, 300)}`);
    },
    async stoppedDeployment(name) {
      const deployment = await createDeployment(system.db, name);
      await system.db.query("UPDATE deployments SET status = 'stopped' WHERE id = $1", [
        deployment.deploymentId,
      ]);
      const cipher = loadDataCipher({
        dataKey: system.config.VIGIL_DATA_KEY,
        dataDir: system.config.dataDir,
      });
      return { deployment, cipher };
    },
    async undecidedDeployment(name) {
      const { db } = system;
      const deployment = await createDeployment(db, name);
      await db.query(`UPDATE deployments SET status = 'planned' WHERE id = $1`, [deployment.deploymentId]);
      await db.query(
        'INSERT INTO deployment_watchlists (deployment_id, watchlist_id) SELECT $1, watchlist_id FROM subjects WHERE id = $2',
        [deployment.deploymentId, deployment.subjectId],
      );
      const request = await authorise(deployment.deploymentId, { urgent: true, grant: false });
      await db.query(
        `UPDATE deployments SET status = 'stopped', started_at = now() - interval '1 hour', stopped_at = now() WHERE id = $1`,
        [deployment.deploymentId],
      );
      return { deployment, request };
    },
    shot,
    async shots(p, name) {
      const viewport = p.viewportSize() ?? DESKTOP;
      await shot(p, `${name}-desktop`);
      await p.setViewportSize(PHONE);
      await shot(p, `${name}-phone`);
      await p.setViewportSize(viewport);
    },
    async stop() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      await system.stop();
      await testDb.drop();
      await removeAlertConsumer(consumer);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Files dropped onto the console's drop zone, as a manager drags photos from their desktop. */
export async function dropFiles(
  p: Page,
  files: { name: string; type: string; base64: string }[],
): Promise<void> {
  const dataTransfer = await p.evaluateHandle((list) => {
    // The page's DataTransfer (this file is typed for Node, without the DOM library).
    const { DataTransfer } = globalThis as unknown as {
      DataTransfer: new () => { items: { add(file: File): void } };
    };
    const transfer = new DataTransfer();
    for (const file of list) {
      const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], file.name, { type: file.type }));
    }
    return transfer;
  }, files);
  await p.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
}
