import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCameraUrl } from './camera-url.js';
import { buildFfmpegArgs } from './ffmpeg-args.js';

describe('camera URL whitelist', () => {
  it.each([
    ['rtsp://user:pw@10.0.0.5:554/stream1', 'rtsp', 'rtsp,rtp,udp,tcp'],
    ['rtsps://cam.example/live', 'rtsp', 'rtsp,rtsps,rtp,udp,tcp,tls'],
    ['http://cam.local/mjpeg', 'http', 'http,tcp,hls,crypto'],
    ['https://cdn.example/live/index.m3u8', 'http', 'http,https,tcp,tls,hls,crypto'],
  ])('accepts %s as %s with only its protocols', (url, kind, protocols) => {
    const source = parseCameraUrl(url);
    expect(source.kind).toBe(kind);
    expect(source.protocols).toBe(protocols);
    expect(source.input).toBe(url);
  });

  it('turns a local path into an absolute file: input that only the file protocol may open', () => {
    const source = parseCameraUrl('videos/entrance.mp4');
    expect(source).toEqual({
      kind: 'file',
      input: `file:${path.resolve('videos/entrance.mp4')}`,
      protocols: 'file',
    });
  });

  it.each([
    ['-i /etc/passwd', 'option injection'],
    ['-filter_complex', 'option injection'],
    ['concat:/a.mp4|/b.mp4', 'ffmpeg pseudo-protocol'],
    ['subfile:,start,0,end,10,:/etc/passwd', 'ffmpeg pseudo-protocol'],
    ['data:video/mp4;base64,AAAA', 'data URL'],
    ['file:///etc/passwd', 'file URL scheme'],
    ['ftp://host/video.mp4', 'other scheme'],
    ['javascript:alert(1)', 'other scheme'],
    ['rtsp://cam/x\nmalicious', 'newline'],
    ['/videos/a\u0000.mp4', 'NUL'],
    ['rtsp://cam/\u001b[31m', 'escape'],
    ['', 'empty'],
    [' rtsp://cam/x', 'leading space'],
    ['rtsp://', 'no host'],
  ])('refuses %j (%s) with invalid_camera_url', (url) => {
    expect(() => parseCameraUrl(url)).toThrowError(expect.objectContaining({ code: 'invalid_camera_url' }));
  });
});

describe('ffmpeg arguments', () => {
  it('plays a file in real time, looped, sampled to the camera fps, as MJPEG on stdout', () => {
    const args = buildFfmpegArgs(parseCameraUrl('/v/a.mp4'), { fps: 5, realtime: true, loop: true });
    expect(args).toEqual([
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-re',
      '-stream_loop',
      '-1',
      '-protocol_whitelist',
      'file',
      '-i',
      'file:/v/a.mp4',
      '-an',
      '-sn',
      '-dn',
      '-vf',
      'fps=5',
      '-f',
      'image2pipe',
      '-c:v',
      'mjpeg',
      '-q:v',
      '3',
      'pipe:1',
    ]);
  });

  it('reads files as fast as it can when realtime is off, and never loops or paces a live stream', () => {
    expect(
      buildFfmpegArgs(parseCameraUrl('/v/a.mp4'), { fps: 10, realtime: false, loop: false }),
    ).not.toContain('-re');
    const live = buildFfmpegArgs(parseCameraUrl('rtsp://cam/1'), { fps: 10, realtime: true, loop: true });
    expect(live).not.toContain('-re');
    expect(live).not.toContain('-stream_loop');
    expect(live.slice(live.indexOf('-rtsp_transport'), live.indexOf('-rtsp_transport') + 2)).toEqual([
      '-rtsp_transport',
      'tcp',
    ]);
    // The URL is one argument right after -i, whatever it holds.
    expect(live[live.indexOf('-i') + 1]).toBe('rtsp://cam/1');
  });
});
