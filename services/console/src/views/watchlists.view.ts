import type { ImageFailure, ImportProgress, Subject, Watchlist } from '@vigil/contract';
import { SUBJECT_CATEGORIES, SUBJECT_PRIORITIES } from '@vigil/contract/values';
import { ApiError, api, protectedImage } from '../api.client.js';
import { clear, h } from '../dom.js';
import type { View } from '../main.js';
import { extractStills } from '../video-stills.js';
import { photoChecks } from './enrol-preview.js';
import { imageFailureText } from './image-failures.js';
import { provenanceFields, provenanceView } from './provenance.js';
import { errorText, message } from './shared.js';
import { showSubjectPhotos } from './subject-photos.js';

/** Subjects a page: a screen of cards; the search runs on the server, over the whole list. */
const SUBJECT_PAGE = 24;

/** How often a running bulk import's progress is asked for. */
const IMPORT_POLL_MS = 1000;
const CATEGORIES: string[] = [...SUBJECT_CATEGORIES];
const PRIORITIES: string[] = [...SUBJECT_PRIORITIES];

/** Watchlists and their subjects; enrolment by drag-and-drop, with stills pulled from a video in the browser. */
export const watchlistsView: View = (root, session) => {
  const lists = h('section', { id: 'watchlists', 'aria-label': 'Watchlists' });
  const detail = h('section', { id: 'watchlist-detail', 'aria-label': 'Watchlist' });
  const feedback = h('p', { class: 'action-status', role: 'status', id: 'watchlist-feedback' });
  const newName = h('input', { id: 'new-watchlist-name', required: true, maxlength: 200 });
  const newDescription = h('input', { id: 'new-watchlist-description', maxlength: 2000 });
  const createForm = h(
    'form',
    { class: 'card', id: 'create-watchlist' },
    h('h3', {}, 'New watchlist'),
    h('label', { for: 'new-watchlist-name' }, 'Name'),
    newName,
    h('label', { for: 'new-watchlist-description' }, 'Description'),
    newDescription,
    h('button', { type: 'submit', class: 'primary' }, 'Create'),
  );
  createForm.addEventListener('submit', (event) => {
    event.preventDefault();
    api<Watchlist>('/watchlists', {
      method: 'POST',
      body: { name: newName.value, description: newDescription.value },
    }).then(
      (watchlist) => {
        createForm.reset();
        void refresh(watchlist.id);
      },
      (error) => {
        feedback.textContent = errorText(error);
      },
    );
  });
  root.append(
    h('h2', {}, 'Watchlists'),
    feedback,
    h('div', { class: 'columns' }, h('div', {}, lists, createForm), detail),
  );

  async function refresh(selectId?: string): Promise<void> {
    const watchlists = await api<Watchlist[]>('/watchlists');
    clear(lists);
    lists.append(
      h(
        'ul',
        { class: 'plain' },
        watchlists.map((w) =>
          h(
            'li',
            {},
            h(
              'button',
              { type: 'button', class: 'link', 'data-watchlist': w.id, onclick: () => void show(w) },
              w.name,
            ),
            ' ',
            h(
              'span',
              { class: 'badge subject-count' },
              `${w.subjectCount} ${w.subjectCount === 1 ? 'subject' : 'subjects'}`,
            ),
          ),
        ),
      ),
    );
    const selected = watchlists.find((w) => w.id === selectId);
    if (selected) await show(selected);
  }

  async function show(watchlist: Watchlist): Promise<void> {
    clear(detail);
    const grid = h('ul', { class: 'subject-grid', id: 'subject-grid' });
    const search = h('input', {
      id: 'subject-search',
      type: 'search',
      maxlength: 200,
      placeholder: 'Name or notes',
      'aria-label': 'Search subjects',
    });
    const previous = h('button', { type: 'button', id: 'subjects-previous', class: 'small' }, 'Previous');
    const next = h('button', { type: 'button', id: 'subjects-next', class: 'small' }, 'Next');
    const pageText = h('span', { id: 'subjects-page', class: 'muted', role: 'status' });
    let offset = 0;
    const searchForm = h(
      'form',
      { class: 'toolbar', id: 'subject-search-form', role: 'search' },
      search,
      h('button', { type: 'submit', class: 'small' }, 'Search'),
      previous,
      next,
      pageText,
    );
    searchForm.addEventListener('submit', (event) => {
      event.preventDefault();
      offset = 0;
      void loadSubjects();
    });
    previous.addEventListener('click', () => {
      offset = Math.max(0, offset - SUBJECT_PAGE);
      void loadSubjects();
    });
    next.addEventListener('click', () => {
      offset += SUBJECT_PAGE;
      void loadSubjects();
    });
    // Enrolment, import and deletion change how many subjects the list holds: the counts on the left
    // are asked for again with the subjects.
    const subjectsChanged = () => {
      void loadSubjects();
      refresh().catch((error) => {
        feedback.textContent = errorText(error);
      });
    };
    detail.append(
      h('h3', {}, watchlist.name),
      enrolForm(watchlist, subjectsChanged),
      importForm(watchlist, subjectsChanged),
      h('h4', {}, 'Subjects'),
      searchForm,
      grid,
    );
    async function loadSubjects(): Promise<void> {
      let subjects: Subject[];
      const q = search.value.trim();
      try {
        // One more than a page: whether there is a next page.
        const page = `limit=${SUBJECT_PAGE + 1}&offset=${offset}${q ? `&q=${encodeURIComponent(q)}` : ''}`;
        subjects = await api<Subject[]>(`/watchlists/${watchlist.id}/subjects?${page}`);
      } catch (error) {
        clear(grid);
        grid.append(message(errorText(error), 'error'));
        return;
      }
      const more = subjects.length > SUBJECT_PAGE;
      subjects = subjects.slice(0, SUBJECT_PAGE);
      previous.disabled = offset === 0;
      next.disabled = !more;
      const range = subjects.length > 0 ? `${offset + 1}-${offset + subjects.length}` : 'none';
      pageText.textContent = q ? `Matching “${q}”: ${range}` : `Subjects ${range}`;
      clear(grid);
      if (subjects.length === 0)
        grid.append(message(q ? `No subject's name or notes contain “${q}”.` : 'No subjects yet.'));
      for (const subject of subjects) {
        const photo = h('img', { alt: `Photo of ${subject.label}`, class: 'thumb' });
        const first = subject.images[0];
        if (first)
          protectedImage(`/api/v1/reference-images/${first.id}`).then(
            (url) => {
              photo.src = url;
            },
            () => {},
          );
        grid.append(
          h(
            'li',
            { class: `subject priority-${subject.priority}`, 'data-subject-id': subject.id },
            photo,
            h('strong', {}, subject.label),
            h(
              'span',
              { class: 'muted' },
              `${subject.category} · ${subject.priority} · ${subject.images.length} image(s)`,
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'small subject-photos-button',
                onclick: () =>
                  showSubjectPhotos(subject, { categories: CATEGORIES, priorities: PRIORITIES }, () => {
                    void loadSubjects();
                  }),
              },
              'Photos and quality',
            ),
            provenanceView(subject, session, () => void loadSubjects(), feedback),
            h(
              'button',
              {
                type: 'button',
                class: 'danger small',
                onclick: () => {
                  if (!confirm(`Delete ${subject.label} and every image of them?`)) return;
                  void api(`/subjects/${subject.id}`, { method: 'DELETE' }).then(
                    () => {
                      feedback.textContent = `Deleted ${subject.label}.`;
                      subjectsChanged();
                    },
                    (error) => {
                      feedback.textContent = errorText(error);
                    },
                  );
                },
              },
              'Delete',
            ),
          ),
        );
      }
    }
    await loadSubjects();
  }

  /** Bulk import: a ZIP of photos with a CSV of labels, enrolled by the server in the background. */
  function importForm(watchlist: Watchlist, done: () => void): HTMLElement {
    const archive = h('input', {
      id: 'import-archive',
      type: 'file',
      accept: '.zip,application/zip',
      required: true,
    });
    const labels = h('input', { id: 'import-labels', type: 'file', accept: '.csv,text/csv' });
    const bar = h('progress', { id: 'import-progress', max: 1, value: 0, hidden: true });
    const status = h('p', { id: 'import-status', role: 'status', class: 'muted' });
    const failures = h('ul', { id: 'import-errors', class: 'verdicts' });
    const form = h(
      'form',
      { class: 'card', id: 'import-form' },
      h('h4', {}, 'Bulk import'),
      h(
        'p',
        { class: 'muted' },
        'A ZIP of photos and a CSV: label,category,priority,file (or labels.csv inside the ZIP).',
      ),
      h('label', { for: 'import-archive' }, 'ZIP of photos'),
      archive,
      h('label', { for: 'import-labels' }, 'Labels CSV (optional)'),
      labels,
      h('button', { type: 'submit' }, 'Import'),
      bar,
      status,
      failures,
    );
    const show = (progress: ImportProgress) => {
      bar.hidden = false;
      bar.max = Math.max(1, progress.total);
      bar.value = progress.processed;
      status.textContent = `${progress.status}: ${progress.processed} of ${progress.total} rows, ${progress.enrolled} enrolled, ${progress.failed} failed${progress.error ? ` (${progress.error})` : ''}`;
      clear(failures);
      for (const failure of progress.errors ?? [])
        failures.append(
          h(
            'li',
            { class: 'verdict-bad' },
            `row ${failure.row}${failure.label ? ` ${failure.label}` : ''}: ${failure.code} — ${failure.message}`,
          ),
        );
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const zip = archive.files?.[0];
      if (!zip) return;
      const data = new FormData();
      data.append('archive', zip, zip.name);
      const csv = labels.files?.[0];
      if (csv) data.append('labels', csv, csv.name);
      status.textContent = 'Uploading…';
      api<ImportProgress>(`/watchlists/${watchlist.id}/imports`, { method: 'POST', form: data }).then(
        async (progress) => {
          show(progress);
          // Progress is polled: the server enrols row by row in the background.
          while (progress.status === 'running' && form.isConnected) {
            await new Promise((resolve) => setTimeout(resolve, IMPORT_POLL_MS));
            progress = await api<ImportProgress>(`/imports/${progress.id}`);
            show(progress);
          }
          done();
        },
        (error) => {
          status.textContent = errorText(error);
        },
      );
    });
    return form;
  }

  function enrolForm(watchlist: Watchlist, done: () => void): HTMLElement {
    const enrolButton = h('button', { type: 'submit', class: 'primary', id: 'enrol-button' }, 'Enrol');
    const hint = h('p', { class: 'muted hint', id: 'enrol-hint', role: 'status' });
    // Enrol is offered once every photo chosen has been checked and passes.
    const offerEnrol = () => {
      const blocked = photos.blocked();
      enrolButton.disabled = blocked !== null;
      hint.textContent = blocked ?? '';
    };
    const photos = photoChecks(watchlist.id, offerEnrol);
    offerEnrol();
    const label = h('input', { id: 'subject-label', required: true, maxlength: 200 });
    const category = h(
      'select',
      { id: 'subject-category' },
      CATEGORIES.map((c) => h('option', { value: c }, c)),
    );
    const priority = h(
      'select',
      { id: 'subject-priority' },
      PRIORITIES.map((p) => h('option', { value: p }, p)),
    );
    const notes = h('textarea', { id: 'subject-notes', rows: 2, maxlength: 2000 });
    const provenance = provenanceFields(category);
    const fileInput = h('input', { id: 'subject-images', type: 'file', accept: 'image/*', multiple: true });
    const rejected = h('ul', { class: 'verdicts', id: 'enrol-failures', 'aria-live': 'polite' });
    const drop = h(
      'div',
      {
        class: 'drop-zone',
        id: 'drop-zone',
        tabindex: '0',
        role: 'button',
        'aria-label': 'Drop photos here or press Enter to choose',
      },
      'Drop photos here, or ',
      h('label', { for: 'subject-images', class: 'link' }, 'choose files'),
      fileInput,
    );
    const videoInput = h('input', { id: 'video-file', type: 'file', accept: 'video/*' });
    const videoStatus = h('p', { class: 'muted', id: 'video-status', role: 'status' });
    const stills = h('ul', { class: 'stills', id: 'video-stills' });

    const addFiles = (added: Iterable<File>) => photos.add(added);
    fileInput.addEventListener('change', () => {
      addFiles(fileInput.files ?? []);
      // The same file chosen again after removing it is a change.
      fileInput.value = '';
    });
    drop.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') fileInput.click();
    });
    drop.addEventListener('dragover', (event) => {
      event.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (event) => {
      event.preventDefault();
      drop.classList.remove('over');
      addFiles(event.dataTransfer?.files ?? []);
    });
    videoInput.addEventListener('change', () => {
      const video = videoInput.files?.[0];
      if (!video) return;
      videoStatus.textContent = 'Reading the video in this browser…';
      clear(stills);
      extractStills(video, {
        onProgress: (ratio) => {
          videoStatus.textContent = `Reading the video in this browser… ${Math.round(ratio * 100)}%`;
        },
      }).then(
        (frames) => {
          videoStatus.textContent = `${frames.length} stills: pick the ones with a clear face.`;
          for (const frame of frames) {
            const url = URL.createObjectURL(frame);
            stills.append(
              h(
                'li',
                {},
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'still',
                    onclick: (event: Event) => {
                      addFiles([frame]);
                      (event.currentTarget as HTMLButtonElement).disabled = true;
                    },
                  },
                  h('img', { src: url, alt: frame.name }),
                ),
              ),
            );
          }
        },
        (error) => {
          videoStatus.textContent = `Could not read the video: ${errorText(error)}`;
        },
      );
    });

    const form = h(
      'form',
      { class: 'card', id: 'enrol-form' },
      h('h4', {}, 'Enrol a subject'),
      h('label', { for: 'subject-label' }, 'Label'),
      label,
      h(
        'div',
        { class: 'row' },
        h('label', {}, 'Category ', category),
        h('label', {}, 'Priority ', priority),
      ),
      ...provenance.elements,
      h('label', { for: 'subject-notes' }, 'Description / notes'),
      notes,
      drop,
      photos.list,
      rejected,
      h(
        'details',
        {},
        h('summary', {}, 'Stills from a video (stays on this computer)'),
        h('label', { for: 'video-file' }, 'Video file '),
        videoInput,
        videoStatus,
        stills,
      ),
      hint,
      enrolButton,
    );
    /**
     * The server enrols all the photos or none: every rejected one is reported in words and taken off
     * the list, so that Enrol sends only those left.
     */
    const reportRejected = (sent: File[], failures: ImageFailure[]) => {
      const gone = new Set(failures.map((f) => sent[f.index]).filter((file) => file !== undefined));
      for (const failure of failures) {
        const name = sent[failure.index]?.name || failure.filename || `photo ${failure.index + 1}`;
        rejected.append(
          h(
            'li',
            { class: 'verdict-bad' },
            h('strong', {}, name),
            ` — ${imageFailureText(failure.code, failure.message)}`,
          ),
        );
      }
      photos.remove(gone);
      const left = photos.files();
      const count = failures.length === 1 ? 'One photo was' : `${failures.length} photos were`;
      feedback.textContent = `Not enrolled: ${count} rejected and taken off the list (reasons below). ${
        left.length > 0
          ? `Press Enrol to enrol with the ${left.length === 1 ? 'photo' : `${left.length} photos`} left, or add others.`
          : 'Add other photos.'
      }`;
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const blocked = photos.blocked();
      if (blocked) {
        feedback.textContent = blocked;
        return;
      }
      const files = photos.files();
      const data = new FormData();
      data.append('label', label.value);
      data.append('category', category.value);
      data.append('priority', priority.value);
      data.append('notes', notes.value);
      provenance.append(data);
      for (const file of files) data.append('image', file, file.name);
      feedback.textContent = 'Enrolling…';
      clear(rejected);
      const sent = [...files];
      api<{ id: string }>(`/watchlists/${watchlist.id}/subjects`, { method: 'POST', form: data }).then(
        () => {
          feedback.textContent = `Enrolled ${label.value}.`;
          photos.remove();
          form.reset();
          done();
        },
        (error) => {
          const failures =
            (
              (error instanceof ApiError ? error.body : null) as {
                error?: { images?: ImageFailure[] };
              } | null
            )?.error?.images ?? [];
          if (failures.length === 0) {
            feedback.textContent = errorText(error);
            return;
          }
          reportRejected(sent, failures);
        },
      );
    });
    return form;
  }

  refresh().catch((error) => root.append(message(errorText(error), 'error')));
  return undefined;
};
