import { protectedImage } from '../api.client.js';
import { h } from '../dom.js';

interface SubjectImages {
  label: string;
  category: string;
  priority: string;
  notes: string;
  images: { id: string; quality: Record<string, unknown> }[];
}

/** One photo's quality as a watchlist manager reads it (the numbers of core's FaceQuality). */
export function qualityWords(quality: Record<string, unknown>): string[] {
  const n = (key: string) => (typeof quality[key] === 'number' ? (quality[key] as number) : undefined);
  const lines: string[] = [];
  const eyes = n('interOcular');
  if (eyes !== undefined)
    lines.push(
      `Eyes ${Math.round(eyes)} px apart${eyes < 30 ? ' (small: a closer photo matches better)' : ''}`,
    );
  const sharpness = n('sharpness');
  if (sharpness !== undefined)
    lines.push(`Sharpness ${Math.round(sharpness)}${sharpness < 20 ? ' (blurred)' : ''}`);
  const yaw = n('yaw');
  const pitch = n('pitch');
  if (yaw !== undefined && pitch !== undefined)
    lines.push(
      `Head turned ${Math.abs(Math.round(yaw))}° sideways and ${Math.abs(Math.round(pitch))}° up or down`,
    );
  const score = n('score');
  if (score !== undefined) lines.push(`Face found with ${Math.round(score * 100)}% confidence`);
  const brightness = n('brightness');
  if (brightness !== undefined) lines.push(`Brightness ${Math.round(brightness)} of 255`);
  return lines;
}

/** A subject's page in a dialog: what is recorded about them and each enrolled photo with its quality. */
export function showSubjectPhotos(subject: SubjectImages): void {
  const close = h('button', { type: 'button', class: 'close-dialog' }, 'Close');
  const dialog = h(
    'dialog',
    { class: 'crop-dialog subject-dialog', 'aria-label': subject.label },
    h('h3', {}, subject.label),
    h(
      'p',
      {},
      `${subject.category} · ${subject.priority} priority`,
      subject.notes ? ` · ${subject.notes}` : '',
    ),
    h(
      'ul',
      { class: 'subject-photos' },
      subject.images.map((image, index) => {
        const img = h('img', { alt: `Photo ${index + 1} of ${subject.label}` });
        protectedImage(`/api/v1/reference-images/${image.id}`).then(
          (url) => {
            img.src = url;
          },
          () => img.replaceWith(h('div', { class: 'missing' }, 'photo unavailable')),
        );
        return h(
          'li',
          { 'data-image-id': image.id },
          img,
          h(
            'ul',
            { class: 'quality' },
            qualityWords(image.quality).map((line) => h('li', {}, line)),
          ),
        );
      }),
    ),
    subject.images.length === 0 ? h('p', { class: 'muted' }, 'No photo enrolled.') : null,
    close,
  );
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
