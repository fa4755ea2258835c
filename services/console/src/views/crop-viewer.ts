import { ApiError, protectedImage } from '../api.client.js';
import { h } from '../dom.js';

/** Shows `content` under `title` in a modal dialog that Escape or Close shuts and removes. */
function openDialog(title: string, className: string, content: HTMLElement): HTMLDialogElement {
  const close = h('button', { type: 'button', class: 'close-dialog' }, 'Close');
  const dialog = h('dialog', { class: className, 'aria-label': title }, h('h3', {}, title), content, close);
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/**
 * Clicking either face on an alert card opens both, large, side by side, in a modal dialog (Escape or
 * Close shuts it). The images are the card's own: nothing is fetched again.
 */
export function enlargeOnClick(figures: HTMLElement, title: string): void {
  figures.classList.add('enlargeable');
  figures.title = 'Click to enlarge';
  figures.addEventListener('click', () => {
    const images = [...figures.querySelectorAll<HTMLImageElement>('img')].filter((img) => img.src);
    if (images.length === 0) return;
    openDialog(
      title,
      'crop-dialog',
      h(
        'div',
        { class: 'large-faces' },
        images.map((img) =>
          h(
            'figure',
            {},
            h('img', { src: img.src, alt: img.alt }),
            h('figcaption', {}, img.closest('figure')?.querySelector('figcaption')?.textContent ?? ''),
          ),
        ),
      ),
    );
  });
}

/**
 * The "Scene" button of an alert: opens the frame the alert came from (the matched face boxed in
 * red, everyone else blurred), large, in a modal dialog. Fetched only when asked for, since each
 * view is on the audit trail.
 */
export function sceneButton(alertId: string, label: string): HTMLButtonElement {
  const button = h(
    'button',
    { type: 'button', class: 'scene-button', title: 'The whole scene at that moment' },
    'Scene',
  );
  button.addEventListener('click', async (event) => {
    event.stopPropagation();
    const status = h('p', { class: 'scene-status', role: 'status' }, 'Loading the scene…');
    const figure = h('figure', { class: 'scene' }, status);
    openDialog(`${label}: the scene at that moment`, 'crop-dialog scene-dialog', figure);
    try {
      const url = await protectedImage(`/api/v1/alerts/${alertId}/scene`);
      status.replaceWith(
        h('img', {
          class: 'scene-image',
          src: url,
          alt: `The camera's scene, ${label} boxed, other faces blurred`,
        }),
        h('figcaption', {}, `${label} boxed in red; everyone else's face is blurred.`),
      );
    } catch (error) {
      status.textContent =
        error instanceof ApiError && error.status === 404
          ? 'No scene was kept for this alert (its frame was no longer held when it was asked for).'
          : 'The scene could not be loaded.';
    }
  });
  return button;
}
