import { promises as dns } from 'node:dns';
import net from 'node:net';
import { isAddressOrNetwork } from '@vigil/core';
import { parseCameraUrl } from './camera-url.js';
import { CameraNetworkError } from './ingest.errors.js';

/** The networks cameras may be reached on (VIGIL_CAMERA_NETWORKS); empty: any. */
export class CameraNetworks {
  readonly #allowed: net.BlockList | undefined;

  constructor(readonly networks: readonly string[] = []) {
    if (networks.length === 0) return;
    const list = new net.BlockList();
    for (const entry of networks) {
      if (!isAddressOrNetwork(entry)) throw new Error(`not an address or network: ${entry}`);
      const [address = '', prefix] = entry.split('/');
      const type = net.isIPv6(address) ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
    }
    this.#allowed = list;
  }

  /** True when an allow-list is configured (and so redirects are refused). */
  get restricted(): boolean {
    return this.#allowed !== undefined;
  }

  /** True when `address` (an IP) is on an allowed network, or no list is configured. */
  allows(address: string): boolean {
    if (!this.#allowed) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    return this.#allowed.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4');
  }

  /**
   * Resolves a network camera's host and checks every address it resolves to. Throws
   * CameraNetworkError `camera_host_unresolved` when the name does not resolve and
   * `camera_network_not_allowed` when an address is off the allowed networks. Files pass.
   */
  async check(url: string): Promise<void> {
    if (parseCameraUrl(url).kind === 'file') return;
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    let addresses: string[];
    if (net.isIP(host)) addresses = [host];
    else {
      try {
        addresses = (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
      } catch {
        throw new CameraNetworkError('camera_host_unresolved', `the camera host ${host} does not resolve`);
      }
    }
    const refused = addresses.filter((address) => !this.allows(address));
    if (refused.length > 0)
      throw new CameraNetworkError(
        'camera_network_not_allowed',
        `the camera host ${host} (${refused.join(', ')}) is not on an allowed camera network (VIGIL_CAMERA_NETWORKS)`,
      );
  }
}

/**
 * Why ffmpeg could not read a camera, from the last lines it wrote on stderr: the status reason an
 * operator sees instead of a bare `ffmpeg_exit`. Undefined when nothing is recognised.
 */
const FAILURES: [RegExp, string][] = [
  [/No such file or directory/i, 'file_not_found'],
  [/Connection refused/i, 'connection_refused'],
  [/No route to host|Network is unreachable|Host is unreachable/i, 'host_unreachable'],
  [
    /Failed to resolve hostname|Name or service not known|Temporary failure in name resolution/i,
    'host_unresolved',
  ],
  [/timed out|Connection timed out/i, 'timeout'],
  [/certificate|Peer certificate|TLS|GnuTLS|SSL/i, 'tls_verify_failed'],
  [/\b401\b|Unauthorized/i, 'unauthorized'],
  [/\b403\b|Forbidden/i, 'forbidden'],
  [/\b404\b|Not Found/i, 'not_found'],
  [/Invalid data found when processing input/i, 'unreadable_stream'],
];

export function cameraFailureReason(stderrTail: string): string | undefined {
  for (const [pattern, reason] of FAILURES) if (pattern.test(stderrTail)) return reason;
  return undefined;
}
