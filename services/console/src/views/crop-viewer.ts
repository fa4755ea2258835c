import { h } from '../dom.js';

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
    const close = h('button', { type: 'button', class: 'close-dialog' }, 'Close');
    const dialog = h(
      'dialog',
      { class: 'crop-dialog', 'aria-label': title },
      h('h3', {}, title),
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
      close,
    );
    close.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  });
}
