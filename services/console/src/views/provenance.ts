import type { Subject } from '@vigil/contract';
import { api } from '../api.client.js';
import { formatTime, h } from '../dom.js';
import type { Session } from '../session.js';
import { errorText } from './shared.js';

/** A watchlist entry's provenance and approval, as `GET /watchlists/:id/subjects` gives them. */
export type SubjectProvenance = Subject;

/** What each category asks of an entry: the criteria a reason should name (docs/lawful-deployments.md). */
export const CATEGORY_CRITERIA: Record<string, string> = {
  wanted: 'Wanted by the courts or the police: name the warrant or the offence.',
  suspect: 'Suspected of an offence on reasonable grounds: name the investigation.',
  missing: 'Missing and at risk: name the missing person report.',
  vulnerable: 'At risk of harm, listed to protect them: name the safeguarding decision.',
  other: 'Another reason allowed by the force policy: say which and why.',
};

const today = () => new Date().toISOString().slice(0, 10);

/** The enrolment form's provenance inputs: why listed, the image's source and date, the review date. */
export function provenanceFields(category: HTMLSelectElement) {
  const reason = h('textarea', { id: 'subject-reason', rows: 2, maxlength: 500 });
  const source = h('input', {
    id: 'subject-source',
    maxlength: 500,
    placeholder: 'e.g. custody image, ref …',
  });
  const takenOn = h('input', { id: 'subject-image-date', type: 'date', max: today() });
  const reviewBy = h('input', { id: 'subject-review-by', type: 'date', min: today() });
  const hint = () => {
    reason.placeholder = CATEGORY_CRITERIA[category.value] ?? '';
  };
  category.addEventListener('change', hint);
  hint();
  return {
    elements: [
      h('label', { for: 'subject-reason' }, 'Why they are on the list'),
      reason,
      h('label', { for: 'subject-source' }, 'Image source'),
      source,
      h(
        'div',
        { class: 'row dates' },
        h('label', {}, 'Image taken on ', takenOn),
        h('label', {}, 'Review by ', reviewBy),
      ),
      h('p', { class: 'muted hint' }, 'Without a review date the entry is due for review in 90 days.'),
    ],
    append(data: FormData) {
      data.append('reason', reason.value);
      data.append('source', source.value);
      if (takenOn.value) data.append('image_taken_on', takenOn.value);
      if (reviewBy.value) data.append('review_by', reviewBy.value);
    },
  };
}

/**
 * A subject card's provenance: why listed, the image's source and date, who added and who approved,
 * the review date; Approve for anyone but who added them, and a form that records the provenance.
 */
export function provenanceView(
  subject: SubjectProvenance,
  session: Session,
  changed: () => void,
  feedback: HTMLElement,
): HTMLElement {
  const overdue = subject.reviewBy != null && subject.reviewBy < today();
  const call = (path: string, init: { method: string; body?: unknown }, done: string) =>
    api(path, init).then(
      () => {
        feedback.textContent = done;
        changed();
      },
      (error) => {
        feedback.textContent = errorText(error);
      },
    );
  const reason = h(
    'textarea',
    { rows: 2, maxlength: 500, 'aria-label': 'Why they are on the list' },
    subject.reason,
  );
  const source = h('input', { maxlength: 500, value: subject.source, 'aria-label': 'Image source' });
  const takenOn = h('input', {
    type: 'date',
    value: subject.imageTakenOn ?? '',
    'aria-label': 'Image taken on',
  });
  const reviewBy = h('input', {
    type: 'date',
    value: subject.reviewBy ?? '',
    min: today(),
    'aria-label': 'Review by',
  });
  const edit = h(
    'form',
    { class: 'provenance-form' },
    reason,
    source,
    h('div', { class: 'row' }, takenOn, reviewBy),
    h('button', { type: 'submit', class: 'small' }, 'Save (needs approval again)'),
  );
  edit.addEventListener('submit', (event) => {
    event.preventDefault();
    void call(
      `/subjects/${subject.id}`,
      {
        method: 'PATCH',
        body: {
          reason: reason.value,
          source: source.value,
          imageTakenOn: takenOn.value || null,
          ...(reviewBy.value ? { reviewBy: reviewBy.value } : {}),
        },
      },
      `Provenance of ${subject.label} recorded; it needs approval again.`,
    );
  });
  const approved = subject.approvedAt !== null;
  return h(
    'div',
    {
      class: 'provenance',
      'data-approved': approved ? 'yes' : 'no',
      'data-review-overdue': overdue ? 'yes' : 'no',
    },
    h('p', { class: 'reason' }, subject.reason || 'No reason recorded.'),
    h(
      'p',
      { class: 'muted' },
      `Image: ${subject.source || 'source not recorded'}${subject.imageTakenOn ? `, taken ${subject.imageTakenOn}` : ''}`,
    ),
    h('p', { class: 'muted' }, `Added by ${subject.addedByName ?? 'unknown'}`),
    h(
      'p',
      { class: approved ? 'approval' : 'approval warning' },
      approved
        ? `Approved by ${subject.approvedByName ?? 'a former user'} on ${formatTime(subject.approvedAt!)}`
        : 'Not approved: left out of every deployment until approved.',
    ),
    h(
      'p',
      { class: overdue ? 'review warning' : 'review muted' },
      overdue
        ? `Review overdue since ${subject.reviewBy}: left out of deployments.`
        : `Review by ${subject.reviewBy ?? 'not set'}`,
    ),
    !approved && subject.addedBy !== session.user.id
      ? h(
          'button',
          {
            type: 'button',
            class: 'small primary approve',
            onclick: () =>
              void call(`/subjects/${subject.id}/approval`, { method: 'POST' }, `${subject.label} approved.`),
          },
          'Approve',
        )
      : null,
    h('details', {}, h('summary', {}, 'Record provenance'), edit),
  );
}
