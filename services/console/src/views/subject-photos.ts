import type { Subject } from '@vigil/contract';
import { api, protectedImage } from '../api.client.js';
import { h } from '../dom.js';
import { photoChecks } from './enrol-preview.js';
import { sentence } from './roles.js';
import { errorText } from './shared.js';
import { subjectHistorySection } from './subject-history.js';

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

/** Each enrolled photo with its quality in words, and Remove while the subject has another. */
function photoList(subject: Subject, removed: () => void): HTMLElement {
  const status = h('p', { class: 'action-status', role: 'status' });
  const list = h(
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
        subject.images.length > 1
          ? h(
              'button',
              {
                type: 'button',
                class: 'small danger remove-photo',
                onclick: () => {
                  if (!confirm(`Remove photo ${index + 1} of ${subject.label}?`)) return;
                  api(`/reference-images/${image.id}`, { method: 'DELETE' }).then(removed, (error) => {
                    status.textContent = sentence(errorText(error));
                  });
                },
              },
              'Remove photo',
            )
          : null,
      );
    }),
    subject.images.length === 0 ? h('li', { class: 'muted' }, 'No photo enrolled.') : null,
  );
  return h('div', {}, list, status);
}

/**
 * More photos of an enrolled subject: each checked as enrolment would check it before anything is
 * stored (the face Vigil would use and the verdict in words); Add once every photo left passes.
 */
function addPhotosForm(subject: Subject, added: () => void): HTMLFormElement {
  const input = h('input', { id: 'add-photos-input', type: 'file', accept: 'image/*', multiple: true });
  const button = h('button', { type: 'submit', class: 'primary', id: 'add-photos-button' }, 'Add photos');
  const hint = h('p', { class: 'muted hint', id: 'add-photos-hint', role: 'status' });
  const status = h('p', { class: 'action-status', role: 'status', id: 'add-photos-status' });
  const offer = () => {
    const blocked = photos.blocked();
    button.disabled = blocked !== null;
    hint.textContent = blocked === 'Add at least one photo.' ? '' : (blocked ?? '');
  };
  const photos = photoChecks(subject.watchlistId, offer, 'add-photo-checks');
  offer();
  input.addEventListener('change', () => {
    photos.add(input.files ?? []);
    input.value = '';
  });
  const form = h(
    'form',
    { id: 'add-photos' },
    h('h4', {}, 'Add photos'),
    h('label', { for: 'add-photos-input' }, 'Photos of this person'),
    input,
    photos.list,
    hint,
    button,
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (photos.blocked()) return;
    const data = new FormData();
    const files = photos.files();
    for (const file of files) data.append('image', file, file.name);
    status.textContent = 'Adding…';
    api(`/subjects/${subject.id}/images`, { method: 'POST', form: data }).then(
      () => {
        status.textContent = `Added ${files.length === 1 ? 'one photo' : `${files.length} photos`}. A second person approves the entry again.`;
        photos.remove();
        added();
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
 * more photos (checked before they are added), their history, and a form to change the entry's
 * label, category, priority and notes.
 */
export function showSubjectPhotos(
  subject: Subject,
  choices: { categories: string[]; priorities: string[] },
  saved: () => void,
): void {
  const close = h('button', { type: 'button', class: 'close-dialog' }, 'Close');
  let photos: HTMLElement;
  let history = subjectHistorySection(subject.id);
  // A change shows in the history (and added photos in the list) at once.
  const changed = () => {
    saved();
    const fresh = subjectHistorySection(subject.id);
    history.replaceWith(fresh);
    history = fresh;
    api<Subject>(`/subjects/${subject.id}`).then(
      (current) => {
        const list = photoList(current, changed);
        photos.replaceWith(list);
        photos = list;
      },
      () => {},
    );
  };
  photos = photoList(subject, changed);
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
    photos,
    addPhotosForm(subject, changed),
    history,
    editForm(subject, choices, changed),
    close,
  );
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
