import type { Subject } from '@vigil/contract';
import { api, protectedImage } from '../api.client.js';
import { h } from '../dom.js';
import { sentence } from './roles.js';
import { errorText } from './shared.js';

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

/** The entry's own fields, editable (PATCH /subjects/:id; a change withdraws its approval). */
function editForm(
  subject: Subject,
  choices: { categories: string[]; priorities: string[] },
  saved: () => void,
): HTMLFormElement {
  const label = h('input', { id: 'edit-label', required: true, maxlength: 200, value: subject.label });
  const select = (id: string, options: string[], current: string) =>
    h(
      'select',
      { id },
      options.map((o) => h('option', { value: o, selected: o === current }, o)),
    );
  const category = select('edit-category', choices.categories, subject.category);
  const priority = select('edit-priority', choices.priorities, subject.priority);
  const notes = h('textarea', { id: 'edit-notes', maxlength: 2000 }, subject.notes);
  const status = h('p', { class: 'action-status', role: 'status', id: 'edit-status' });
  const form = h(
    'form',
    { id: 'edit-subject' },
    h('h4', {}, 'Change this entry'),
    h('label', { for: 'edit-label' }, 'Label'),
    label,
    h('label', { for: 'edit-category' }, 'Category'),
    category,
    h('label', { for: 'edit-priority' }, 'Priority'),
    priority,
    h('label', { for: 'edit-notes' }, 'Description / notes'),
    notes,
    h(
      'p',
      { class: 'muted hint' },
      'Saving withdraws the entry’s approval: a second person approves it again.',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Save'),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    api(`/subjects/${subject.id}`, {
      method: 'PATCH',
      body: { label: label.value, category: category.value, priority: priority.value, notes: notes.value },
    }).then(
      () => {
        status.textContent = 'Saved.';
        saved();
      },
      (error) => {
        status.textContent = sentence(errorText(error));
      },
    );
  });
  return form;
}

/**
 * A subject's page in a dialog: what is recorded about them, each enrolled photo with its quality,
 * and a form to change the entry's label, category, priority and notes.
 */
export function showSubjectPhotos(
  subject: Subject,
  choices: { categories: string[]; priorities: string[] },
  saved: () => void,
): void {
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
    editForm(subject, choices, saved),
    close,
  );
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
