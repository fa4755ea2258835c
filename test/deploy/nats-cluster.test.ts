import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { ALERT_STREAM_SUBJECTS, NatsBus, subject } from '@vigil/core';
import { freePort, waitFor } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NATS_DIR = path.join(ROOT, 'deploy/nats');
const CONFIG = fs.readFileSync(path.join(NATS_DIR, 'nats-server.conf'), 'utf8');
const USERS = ['ingest', 'detector', 'embedder', 'matcher', 'api', 'ops', 'sys'] as const;

function natsServerBinary(): string {
  for (const candidate of [
    process.env.NATS_SERVER_BIN,
    '/usr/sbin/nats-server',
    '/usr/local/bin/nats-server',
  ]) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  const found = spawnSync('bash', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  throw new Error('nats-server is not installed: these tests run the real server (set NATS_SERVER_BIN)');
}

interface Node {
  name: string;
  client: number;
  http: number;
  route: number;
  config: string;
  process?: ChildProcess;
}

/** The repository's nats-server.conf, only pointed at local ports, this test's certificates and store. */
function localConfig(node: Node, nodes: Node[], certs: string, store: string): string {
  let text = CONFIG.replaceAll('/etc/nats/certs', certs)
    .replace('store_dir: "/data/jetstream"', `store_dir: "${store}"`)
    .replace('listen: 0.0.0.0:4222', `listen: 127.0.0.1:${node.client}`)
    .replace('http: 0.0.0.0:8222', `http: 127.0.0.1:${node.http}`)
    .replace('listen: 0.0.0.0:6222', `listen: 127.0.0.1:${node.route}`);
  for (const [index, other] of nodes.entries()) {
    text = text.replace(`nats-route://nats-${index + 1}:6222`, `nats-route://127.0.0.1:${other.route}`);
  }
  expect(text).not.toMatch(/0\.0\.0\.0|nats-\d:6222|\/etc\/nats/);
  return text;
}

describe('deploy/nats/nats-server.conf on a real 3-node cluster', () => {
  const binary = natsServerBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nats-cluster-'));
  const secrets = path.join(dir, 'secrets');
  const certs = path.join(secrets, 'certs/nats');
  const passwords: Record<string, string> = {};
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  const nodes: Node[] = [];
  const buses: NatsBus[] = [];

  async function connectAs(
    user: string,
    options: { tls?: boolean; password?: string; replicas?: number; node?: number } = {},
  ) {
    const servers = options.node === undefined ? nodes : nodes.slice(options.node, options.node + 1);
    const bus = await NatsBus.connect({
      url: servers.map((n) => `nats://127.0.0.1:${n.client}`).join(','),
      name: `vigil-deploy-test-${user}`,
      user,
      password: options.password ?? passwords[user],
      ...(options.tls === false ? {} : { caFile: path.join(certs, 'ca.pem') }),
      alertReplicas: options.replicas ?? 3,
    });
    buses.push(bus);
    return bus;
  }

  beforeAll(async () => {
    // The certificates and passwords come from the compose secrets script, as in production.
    const made = spawnSync('bash', [path.join(ROOT, 'deploy/compose/make-secrets.sh'), secrets], {
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).toBe(0);
    for (const user of USERS) {
      passwords[user] = fs.readFileSync(path.join(secrets, `nats_${user}_password`), 'utf8');
      env[`VIGIL_NATS_${user.toUpperCase()}_PASSWORD`] = passwords[user];
    }
    // One password that reads as a number unquoted: the compose entry point must still pass it as a string.
    passwords.ops = '5e3012345678901234567890';
    fs.writeFileSync(path.join(secrets, 'nats_ops_password'), passwords.ops);
    for (let i = 1; i <= 3; i++) {
      nodes.push({
        name: `nats-${i}`,
        client: await freePort(),
        http: await freePort(),
        route: await freePort(),
        config: '',
      });
    }
    for (const node of nodes) {
      node.config = path.join(dir, `${node.name}.conf`);
      fs.writeFileSync(node.config, localConfig(node, nodes, certs, path.join(dir, `${node.name}-store`)));
    }
  });

  afterAll(async () => {
    for (const bus of buses) await bus.close().catch(() => {});
    for (const node of nodes) node.process?.kill('SIGTERM');
    await Promise.all(
      nodes.map(
        (node) =>
          new Promise<void>((resolve) => {
            if (!node.process || node.process.exitCode !== null) return resolve();
            node.process.once('exit', () => resolve());
          }),
      ),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes nats-server -t with the role passwords set, and fails when one is missing', () => {
    const node = nodes[0] as Node;
    const ok = spawnSync(binary, ['-t', '-c', node.config], {
      env: { ...env, NATS_SERVER_NAME: node.name },
      encoding: 'utf8',
    });
    expect(`${ok.stdout}${ok.stderr}`).toContain('is valid');
    expect(ok.status).toBe(0);
    const { VIGIL_NATS_MATCHER_PASSWORD: _, ...missing } = env;
    const bad = spawnSync(binary, ['-t', '-c', node.config], {
      env: { ...missing, NATS_SERVER_NAME: node.name },
      encoding: 'utf8',
    });
    expect(bad.status).not.toBe(0);
    expect(`${bad.stdout}${bad.stderr}`).toContain('VIGIL_NATS_MATCHER_PASSWORD');
  });

  it('forms a JetStream cluster over mutually authenticated TLS routes', async () => {
    for (const node of nodes) {
      // Started the way the compose services start them: load-secrets.sh reads the secret files.
      node.process = spawn('sh', [path.join(NATS_DIR, 'load-secrets.sh'), binary, '-c', node.config], {
        env: { PATH: process.env.PATH, NATS_SECRETS_DIR: secrets, NATS_SERVER_NAME: node.name },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    }
    // Every server healthy (JetStream included) and routed to both others.
    const ready = async (node: Node) => {
      try {
        const health = await fetch(`http://127.0.0.1:${node.http}/healthz`);
        const routes = (await (await fetch(`http://127.0.0.1:${node.http}/routez`)).json()) as {
          num_routes: number;
        };
        return health.ok && routes.num_routes >= 2;
      } catch {
        return false;
      }
    };
    await waitFor(async () => (await Promise.all(nodes.map(ready))).every(Boolean), 30_000, 200);
    const routez = (await (await fetch(`http://127.0.0.1:${nodes[0]?.http}/routez`)).json()) as {
      routes: { remote_id: string }[];
    };
    expect(new Set(routez.routes.map((r) => r.remote_id)).size).toBe(2);
    const varz = (await (await fetch(`http://127.0.0.1:${nodes[0]?.http}/varz`)).json()) as {
      max_payload: number;
      tls_required: boolean;
    };
    expect(varz.max_payload).toBe(2 * 1024 * 1024);
    expect(varz.tls_required).toBe(true);
  });

  it('refuses a client without TLS and a wrong password, and accepts the right one', async () => {
    const detector = await connectAs('detector');
    await detector.flush();
    await expect(connectAs('detector', { tls: false })).rejects.toThrow();
    await expect(connectAs('detector', { password: 'not-the-password' })).rejects.toThrow(/auth/i);
  });

  it('lets each role use only its own subjects: frames reach detectors, not the API; embeddings only from embedders', async () => {
    const deployment = '7b0f3f0e-6a39-4f7e-9d0e-0c5b3c1f4a10';
    const camera = '1d7e5a52-2f2a-4c8e-8a53-6a3e2a0c9b11';
    // All on one server: a subscription reaches the other servers over the routes a moment after
    // its flush, and a message published there before then has no interest and is dropped, which
    // would make a forged message's absence prove nothing (and once lost a real frame under load).
    const [ingest, detector, embedder, matcher, api] = await Promise.all(
      (['ingest', 'detector', 'embedder', 'matcher', 'api'] as const).map((u) => connectAs(u, { node: 0 })),
    );
    const frames: string[] = [];
    const embeddings: string[] = [];
    detector?.subscribe(
      subject('frames', deployment, camera),
      (m) => void frames.push(new TextDecoder().decode(m.data)),
      {
        queue: 'detector',
      },
    );
    matcher?.subscribe(
      subject('embeddings', deployment, camera),
      (m) => void embeddings.push(new TextDecoder().decode(m.data)),
      { queue: 'matcher' },
    );
    const denied: string[] = [];
    api?.connection.subscribe(subject('frames', deployment, camera), {
      callback: (error) => {
        if (error) denied.push(`api: ${error.message}`);
      },
    });
    detector?.connection.subscribe(subject('alerts', deployment, camera), {
      callback: (error) => {
        if (error) denied.push(`detector: ${error.message}`);
      },
    });
    await Promise.all([detector?.flush(), matcher?.flush(), api?.flush()]);
    await waitFor(() => denied.length === 2, 10_000);
    expect(denied.join('\n')).toMatch(/permission/i);

    ingest?.publish(subject('frames', deployment, camera), new TextEncoder().encode('frame-1'));
    detector?.publish(
      subject('embeddings', deployment, camera),
      new TextEncoder().encode('forged-by-detector'),
    );
    ingest?.publish(subject('embeddings', deployment, camera), new TextEncoder().encode('forged-by-ingest'));
    embedder?.publish(subject('embeddings', deployment, camera), new TextEncoder().encode('embedding-1'));
    await Promise.all([ingest?.flush(), detector?.flush(), embedder?.flush()]);
    await waitFor(() => frames.length === 1 && embeddings.length === 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(frames).toEqual(['frame-1']);
    expect(embeddings).toEqual(['embedding-1']);
  });

  it('keeps alerts in VIGIL_ALERTS with 3 replicas, created from the stream JSON by the ops user; frames are never stored', async () => {
    const definition = JSON.parse(fs.readFileSync(path.join(NATS_DIR, 'vigil-alerts-stream.json'), 'utf8'));
    expect(definition.subjects).toEqual([...ALERT_STREAM_SUBJECTS]);
    expect(definition.num_replicas).toBe(3);
    const ops = await connectAs('ops');
    const jsm = await jetstreamManager(ops.connection);
    await jsm.streams.add(definition);

    const detector = await connectAs('detector');
    await expect(
      jetstreamManager(detector.connection).then((m) => m.streams.info('VIGIL_ALERTS')),
    ).rejects.toThrow();

    const deployment = 'c3f7a1de-0b7e-4a84-9d7c-2e8f5b6a1c22';
    const camera = '5e2b9c8d-7a61-4f3e-8b2d-9c0a1e4f6b33';
    const matcher = await connectAs('matcher');
    const api = await connectAs('api');
    const ingest = await connectAs('ingest');
    ingest.publish(subject('frames', deployment, camera), new Uint8Array([1, 2, 3]));
    await ingest.flush();
    const { sequence } = await matcher.durable.publish(
      subject('alerts', deployment, camera),
      new TextEncoder().encode('alert-1'),
    );
    expect(sequence).toBeGreaterThan(0);

    const received: string[] = [];
    const consumer = await api.durable.consume(
      { durableName: 'vigil-api', filter: `vigil.v1.${deployment}.alerts.*` },
      async (message) => {
        received.push(new TextDecoder().decode(message.data));
      },
    );
    await waitFor(() => received.length === 1, 15_000);
    await consumer.stop();
    expect(received).toEqual(['alert-1']);

    const info = await jsm.streams.info('VIGIL_ALERTS');
    expect(info.config.num_replicas).toBe(3);
    expect(info.config.subjects).toEqual([...ALERT_STREAM_SUBJECTS]);
    expect(info.cluster?.replicas?.length).toBe(2);
    expect(info.state.messages).toBe(1);
    const streams: string[] = [];
    for await (const stream of jsm.streams.list()) streams.push(stream.config.name);
    expect(streams).toEqual(['VIGIL_ALERTS']);
  });
});

/** Subjects a user may publish and subscribe to, from nats-server.conf's *_PERMISSIONS blocks. */
function confPermissions(): Map<string, { publish: string[]; subscribe: string[] }> {
  const result = new Map<string, { publish: string[]; subscribe: string[] }>();
  for (const [, role, body] of CONFIG.matchAll(/^(\w+)_PERMISSIONS: \{\n([\s\S]*?)\n\}/gm)) {
    const list = (kind: string) => {
      const block = new RegExp(`${kind}: \\{\\s*allow: \\[([\\s\\S]*?)\\]`).exec(body as string)?.[1] ?? '';
      return [...block.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string).sort();
    };
    result.set((role as string).toLowerCase(), { publish: list('publish'), subscribe: list('subscribe') });
  }
  return result;
}

describe('deploy/k8s/nats/helm-values.yaml', () => {
  it('gives every user the same permissions as nats-server.conf, with TLS, JetStream, 3 replicas and 2 MB payloads', () => {
    const values = parseYaml(fs.readFileSync(path.join(ROOT, 'deploy/k8s/nats/helm-values.yaml'), 'utf8'));
    expect(values.config.cluster.replicas).toBe(3);
    expect(values.config.jetstream.enabled).toBe(true);
    expect(values.config.nats.tls.enabled).toBe(true);
    expect(values.config.cluster.tls.enabled).toBe(true);
    expect(values.config.merge.max_payload).toBe('<< 2MB >>');
    expect(CONFIG).toMatch(/^max_payload: 2MB$/m);
    const fromConf = confPermissions();
    expect([...fromConf.keys()].sort()).toEqual(['api', 'detector', 'embedder', 'ingest', 'matcher', 'ops']);
    const users = values.config.merge.accounts.VIGIL.users as {
      user: string;
      password: string;
      permissions: { publish: { allow: string[] }; subscribe: { allow: string[] } };
    }[];
    expect(users.map((u) => u.user).sort()).toEqual([...fromConf.keys()].sort());
    for (const user of users) {
      expect(user.password).toBe(`<< $VIGIL_NATS_${user.user.toUpperCase()}_PASSWORD >>`);
      expect([...user.permissions.publish.allow].sort()).toEqual(fromConf.get(user.user)?.publish);
      expect([...user.permissions.subscribe.allow].sort()).toEqual(fromConf.get(user.user)?.subscribe);
    }
  });

  it('never lets the API or ops read frames, faces or embeddings', () => {
    for (const [user, permissions] of confPermissions()) {
      if (user !== 'api' && user !== 'ops') continue;
      for (const allowed of permissions.subscribe)
        expect(allowed).not.toMatch(/frames|faces|embeddings|^>|vigil\.>/);
    }
  });
});
