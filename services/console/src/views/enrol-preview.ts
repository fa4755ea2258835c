import type { EnrolmentPreview } from '@vigil/contract';
import { api } from '../api.client.js';
import { clear, h } from '../dom.js';
import { errorText } from './shared.js';

/** One image's verdict from POST /watchlists/:id/subjects/preview. */
type PreviewedImage = Pick<EnrolmentPreview['images'][number], 'index' | 'ok' | 'code' | 'verdict' | 'face'>;

/** Where a chosen photo stands: being checked, checked (with the verdict), or not checkable now. */
type Check =
  | { state: 'checking' }
  | { state: 'checked'; preview: PreviewedImage }
  | { state: 'unchecked'; reason: string };

/** What the server accepts per request and per image (enrolment's own limits). */
const MAX_IMAGES_PER_REQUEST = 10;
const MAX_IMAGE_BYTES = 15 * 1024 * 1024;

export interface PhotoChecks {
  /** The list of chosen photos, each with its aligned face and verdict in words. */
  list: HTMLOListElement;
  add(files: Iterable<File>): void;
  /** The photos Enrol sends: every one, once all passed (or could not be checked here). */
  files(): File[];
  /** Drops photos (the server refused them after all), or all of them. */
  remove(files?: Iterable<File>): void;
  /** Why Enrol is not offered now, or null when it is. */
  blocked(): string | null;
}

/**
 * The photos chosen for an enrolment, each checked by the server as enrolment would check it before
 * anything is enrolled: the aligned face it would use and its verdict in words. A photo that would
 * fail is marked, and can be removed; Enrol is offered once every photo left passes.
 */
export function photoChecks(
  watchlistId: string,
  changed: () => void,
  listId = 'image-verdicts',
): PhotoChecks {
  const files: File[] = [];
  const checks = new Map<File, Check>();
  const list = h('ol', { class: 'verdicts photo-checks', id: listId, 'aria-live': 'polite' });

  const render = () => {
    clear(list);
    for (const file of files) {
      const check = checks.get(file) ?? { state: 'checking' };
      const preview = check.state === 'checked' ? check.preview : undefined;
      const verdict =
        check.state === 'checking'
          ? 'Checking…'
          : check.state === 'unchecked'
            ? `Not checked (${check.reason}): enrolment will check it`
            : (preview?.verdict ?? '');
      list.append(
        h(
          'li',
          {
            class: preview ? (preview.ok ? 'verdict-ok' : 'verdict-bad') : 'verdict-pending',
            'data-verdict': preview?.code ?? check.state,
          },
          preview?.face
            ? h('img', {
                src: preview.face,
                alt: `The face Vigil found in ${file.name}`,
                class: 'face-thumb',
              })
            : h('span', { class: 'face-thumb none', 'aria-hidden': 'true' }),
          h(
            'span',
            { class: 'photo-check' },
            h('span', { class: 'photo-name' }, `${file.name} (${Math.round(file.size / 1024)} KB)`),
            h('strong', { class: 'photo-verdict' }, verdict),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'small',
              'aria-label': `Remove ${file.name}`,
              onclick: () => remove([file]),
            },
            'Remove',
          ),
        ),
      );
    }
    changed();
  };

  const check = (batch: File[]) => {
    const form = new FormData();
    for (const file of batch) form.append('image', file, file.name);
    api<EnrolmentPreview>(`/watchlists/${watchlistId}/subjects/preview`, {
      method: 'POST',
      form,
    }).then(
      (result) => {
        for (const preview of result.images) {
          const file = batch[preview.index];
          if (file && checks.has(file)) checks.set(file, { state: 'checked', preview });
        }
        render();
      },
      (error) => {
        for (const file of batch)
          if (checks.has(file)) checks.set(file, { state: 'unchecked', reason: errorText(error) });
        render();
      },
    );
  };

  const add = (added: Iterable<File>) => {
    const fresh: File[] = [];
    for (const file of added) {
      if (!file.type.startsWith('image/') || checks.has(file)) continue;
      files.push(file);
      if (file.size > MAX_IMAGE_BYTES) {
        checks.set(file, {
          state: 'checked',
          preview: { index: 0, ok: false, code: 'image_too_large', verdict: 'File too large', face: null },
        });
        continue;
      }
      checks.set(file, { state: 'checking' });
      fresh.push(file);
    }
    for (let i = 0; i < fresh.length; i += MAX_IMAGES_PER_REQUEST)
      check(fresh.slice(i, i + MAX_IMAGES_PER_REQUEST));
    render();
  };

  const remove = (gone?: Iterable<File>) => {
    const drop = new Set(gone ?? files);
    const left = files.filter((file) => !drop.has(file));
    for (const file of drop) checks.delete(file);
    files.splice(0, files.length, ...left);
    render();
  };

  return {
    list,
    add,
    files: () => [...files],
    remove,
    blocked: () => {
      if (files.length === 0) return 'Add at least one photo.';
      const states = files.map((file) => checks.get(file));
      const checking = states.filter((c) => c?.state === 'checking').length;
      if (checking > 0) return `Checking ${checking === 1 ? 'a photo' : `${checking} photos`}…`;
      const failing = states.filter((c) => c?.state === 'checked' && !c.preview.ok).length;
      if (failing > 0)
        return `${failing === 1 ? 'One photo' : `${failing} photos`} would not enrol: remove ${failing === 1 ? 'it' : 'them'} first.`;
      return null;
    },
  };
}
