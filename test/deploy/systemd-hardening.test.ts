import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const UNITS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/systemd');
const SPLIT_UNITS = [
  'vigil-api.service',
  'vigil-ingest.service',
  'vigil-matcher.service',
  'vigil-detector@.service',
  'vigil-embedder@.service',
  'vigil-migrate.service',
];
/** The sandboxing directives of vigil.service that every split unit must repeat, value for value. */
const HARDENING = [
  'NoNewPrivileges',
  'ProtectSystem',
  'ProtectHome',
  'PrivateTmp',
  'PrivateDevices',
  'ProtectKernelTunables',
  'ProtectKernelModules',
  'ProtectKernelLogs',
  'ProtectControlGroups',
  'ProtectClock',
  'ProtectHostname',
  'RestrictNamespaces',
  'RestrictRealtime',
  'RestrictSUIDSGID',
  'LockPersonality',
  'RestrictAddressFamilies',
  'CapabilityBoundingSet',
  'SystemCallArchitectures',
  'UMask',
];

/** The [Service] section of a unit file as directive → values (a directive may repeat). */
function serviceDirectives(file: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  let section = '';
  for (const raw of fs.readFileSync(path.join(UNITS, file), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    directives.set(key, [...(directives.get(key) ?? []), line.slice(at + 1)]);
  }
  return directives;
}

/** Issue #22 item 11: the split-role units lacked the hardening vigil.service has. */
describe('deploy/systemd hardening', () => {
  const reference = serviceDirectives('vigil.service');

  it('vigil.service holds every hardening directive the split units are held to', () => {
    for (const key of HARDENING) expect(reference.get(key), key).toBeDefined();
  });

  it.each(SPLIT_UNITS)('%s repeats vigil.service’s sandbox, value for value', (unit) => {
    const directives = serviceDirectives(unit);
    for (const key of HARDENING) expect(directives.get(key), `${unit} ${key}`).toEqual(reference.get(key));
    // Units with a state directory keep it private, like vigil.service.
    if (directives.has('StateDirectory'))
      expect(directives.get('StateDirectoryMode'), unit).toEqual(reference.get('StateDirectoryMode'));
    // Secrets only where the role needs them: the data key for the API and matcher, the admin password for the API.
    const credentials = (directives.get('LoadCredential') ?? []).map((c) => c.split(':')[0]);
    if (!['vigil-api.service', 'vigil-matcher.service'].includes(unit))
      expect(credentials).not.toContain('data-key');
    if (unit !== 'vigil-api.service') expect(credentials).not.toContain('admin-password');
    if (unit !== 'vigil-api.service') expect(credentials).not.toContain('audit-key');
  });

  // Without it the API generated its audit key in /var/lib/vigil, beside the database and the
  // checkpoint file it protects: whoever could rewrite those could also sign a new checkpoint.
  it.each(['vigil.service', 'vigil-api.service'])(
    '%s signs audit checkpoints with a root-owned key handed over as a credential',
    (unit) => {
      const directives = serviceDirectives(unit);
      expect(directives.get('LoadCredential')).toContain('audit-key:/etc/vigil/audit.key');
      expect((directives.get('Environment') ?? []).join(' ')).toContain('VIGIL_AUDIT_KEY_FILE=%d/audit-key');
      const install = fs.readFileSync(path.join(UNITS, 'install.sh'), 'utf8');
      expect(install).toMatch(/openssl rand -base64 32 >"\$\{config_dir\}\/audit\.key"/);
    },
  );

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  it.skipIf(analyze.status !== 0)(
    'systemd-analyze security rates every split unit no more exposed than vigil.service',
    () => {
      const exposure = (unit: string) => {
        const run = spawnSync(
          'systemd-analyze',
          ['security', '--offline=true', '--no-pager', path.join(UNITS, unit)],
          {
            encoding: 'utf8',
          },
        );
        const level = /Overall exposure level for \S+: ([0-9.]+)/.exec(run.stdout)?.[1];
        expect(level, `${unit}: ${run.stderr}`).toBeDefined();
        return Number(level);
      };
      const baseline = exposure('vigil.service');
      for (const unit of SPLIT_UNITS) expect(exposure(unit), unit).toBeLessThanOrEqual(baseline);
    },
    60_000,
  );
});
