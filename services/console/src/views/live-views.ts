import type { AlertFeed, LiveViewPayload } from '../alerts.socket.js';
import { clear, h } from '../dom.js';

/**
 * The operator's live views: a "Live" button per camera and, for each camera watched, a panel
 * showing its newest frame (a few a second, every face blurred but those that alerted). Frames are
 * only shown, never kept: each replaces the last, and closing the panel stops them at the source.
 */
export class LiveViews {
  readonly section = h('section', { id: 'live-views', class: 'live-views', 'aria-label': 'Live views' });
  readonly #panels = new Map<string, HTMLElement>();
  #feed: AlertFeed | undefined;

  /** Another deployment is opened: every panel of the last one closes (its feed is closed with them). */
  reset(): void {
    this.#feed = undefined;
    this.#panels.clear();
    clear(this.section);
  }

  /** The deployment's feed is up: cameras opened before it (the list shows first) start now. */
  attach(feed: AlertFeed): void {
    this.#feed = feed;
    for (const cameraId of this.#panels.keys()) void this.#watch(cameraId);
  }

  /** The camera's Live / Stop live button, as the camera list is redrawn. */
  button(cameraId: string, name: string): HTMLButtonElement {
    const watching = this.#panels.has(cameraId);
    return h(
      'button',
      {
        type: 'button',
        class: 'live-button',
        'data-camera': cameraId,
        'aria-pressed': String(watching),
        onclick: () => (this.#panels.has(cameraId) ? this.close(cameraId) : void this.open(cameraId, name)),
      },
      watching ? 'Stop live' : 'Live',
    );
  }

  async open(cameraId: string, name: string): Promise<void> {
    if (this.#panels.has(cameraId)) return;
    const status = h('p', { class: 'live-status muted', role: 'status' }, 'Waiting for the camera…');
    const panel = h(
      'figure',
      { class: 'live-view', 'data-camera': cameraId },
      h('img', { class: 'live-frame', alt: `Live view of ${name}, faces blurred` }),
      h('figcaption', {}, h('strong', {}, name), ' live · faces blurred except people who alerted ', status),
      h('button', { type: 'button', class: 'close-live', onclick: () => this.close(cameraId) }, 'Close'),
    );
    this.#panels.set(cameraId, panel);
    this.section.append(panel);
    this.#syncButtons();
    await this.#watch(cameraId);
  }

  async #watch(cameraId: string): Promise<void> {
    if (!this.#feed) return;
    const ack = await this.#feed.watch(cameraId);
    if (!ack?.ok) this.ended(cameraId, ack ? ack.error.message : 'no answer from the server');
  }

  close(cameraId: string): void {
    this.#feed?.unwatch(cameraId);
    this.#panels.get(cameraId)?.remove();
    this.#panels.delete(cameraId);
    this.#syncButtons();
  }

  /** A frame: shown in its camera's panel in place of the last one. */
  frame(frame: LiveViewPayload): void {
    const panel = this.#panels.get(frame.cameraId);
    const img = panel?.querySelector<HTMLImageElement>('img.live-frame');
    if (!panel || !img) return;
    img.src = frame.image;
    panel.dataset.capturedAt = frame.capturedAt;
    const status = panel.querySelector('.live-status');
    if (status) status.textContent = new Date(frame.capturedAt).toLocaleTimeString();
  }

  /** The live view ended on the server's side (access withdrawn) or could not start. */
  ended(cameraId: string, reason: string): void {
    const panel = this.#panels.get(cameraId);
    const status = panel?.querySelector('.live-status');
    if (status) status.textContent = `Live view ended: ${reason}`;
    panel?.querySelector('img.live-frame')?.removeAttribute('src');
    this.#panels.delete(cameraId);
    this.#syncButtons();
  }

  #syncButtons(): void {
    for (const button of document.querySelectorAll<HTMLButtonElement>('button.live-button')) {
      const watching = this.#panels.has(button.dataset.camera ?? '');
      button.textContent = watching ? 'Stop live' : 'Live';
      button.setAttribute('aria-pressed', String(watching));
    }
  }
}
