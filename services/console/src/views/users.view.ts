import type { User } from '@vigil/contract';
import { ApiError, api } from '../api.client.js';
import { clear, h } from '../dom.js';
import type { View } from '../main.js';
import { roleName, sentence, USER_ROLES } from './roles.js';
import { errorText, message } from './shared.js';

/** What the server's refusals mean for the person filling the form. */
function refusal(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'username_taken') return 'That username is taken: choose another.';
    if (error.code === 'self_lockout') return 'You cannot disable yourself or take away your own admin role.';
    if (error.code === 'invalid_username')
      return 'A username is 1 to 64 letters, digits, or the characters . _ @ -';
    return sentence(error.message);
  }
  return sentence(errorText(error));
}

function roleSelect(id: string | null, selected?: string): HTMLSelectElement {
  return h(
    'select',
    { id, class: id ? null : 'role-select', 'aria-label': 'Role' },
    USER_ROLES.map((role) => h('option', { value: role, selected: role === selected }, roleName(role))),
  );
}

/** Admins: create users, change their role, disable or enable them, set a new password. */
export const usersView: View = (root, session) => {
  const feedback = h('p', { class: 'action-status', role: 'status', id: 'users-feedback' });
  const rows = h('tbody', {});
  const username = h('input', {
    id: 'new-user-name',
    required: true,
    maxlength: 64,
    autocomplete: 'off',
    pattern: '[A-Za-z0-9._@\\-]{1,64}',
  });
  const role = roleSelect('new-user-role', 'operator');
  const password = h('input', {
    id: 'new-user-password',
    type: 'password',
    required: true,
    minlength: 12,
    maxlength: 256,
    autocomplete: 'new-password',
  });
  const create = h(
    'form',
    { class: 'card', id: 'create-user' },
    h('h3', {}, 'New user'),
    h('label', { for: 'new-user-name' }, 'Username'),
    username,
    h('label', { for: 'new-user-role' }, 'Role'),
    role,
    h('label', { for: 'new-user-password' }, 'First password'),
    password,
    h(
      'p',
      { class: 'muted hint' },
      'At least 12 characters, not containing the username. Give it to the person, who changes it under Account.',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Create user'),
  );
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    api<User>('/users', {
      method: 'POST',
      body: { username: username.value.trim(), password: password.value, role: role.value },
    }).then(
      (user) => {
        feedback.textContent = `Created ${user.username} (${roleName(user.role)}).`;
        create.reset();
        role.value = 'operator';
        void refresh();
      },
      (error) => {
        feedback.textContent = refusal(error);
      },
    );
  });

  const update = (user: User, changes: Record<string, unknown>, done: string) =>
    api<User>(`/users/${user.id}`, { method: 'PATCH', body: changes }).then(
      () => {
        feedback.textContent = done;
        void refresh();
      },
      (error) => {
        feedback.textContent = refusal(error);
        void refresh();
      },
    );

  function row(user: User): HTMLTableRowElement {
    const self = user.id === session.user.id;
    const select = roleSelect(null, user.role);
    select.disabled = self;
    select.addEventListener('change', () =>
      update(user, { role: select.value }, `${user.username} is now ${roleName(select.value)}.`),
    );
    const toggle = h(
      'button',
      {
        type: 'button',
        class: user.disabled ? 'small toggle-disabled' : 'small danger toggle-disabled',
        disabled: self,
        title: self ? 'You cannot disable yourself' : null,
      },
      user.disabled ? 'Enable' : 'Disable',
    );
    toggle.addEventListener('click', () =>
      update(
        user,
        { disabled: !user.disabled },
        user.disabled
          ? `${user.username} can log in again.`
          : `${user.username} is disabled and logged out everywhere.`,
      ),
    );
    const resetArea = h('div', { class: 'reset-area' });
    const reset = h('button', { type: 'button', class: 'small reset-password' }, 'Set new password');
    reset.addEventListener('click', () => {
      clear(resetArea);
      const input = h('input', {
        type: 'password',
        class: 'new-password',
        minlength: 12,
        maxlength: 256,
        required: true,
        autocomplete: 'new-password',
        'aria-label': `New password for ${user.username}`,
      });
      const form = h(
        'form',
        { class: 'inline-form' },
        input,
        h('button', { type: 'submit', class: 'small primary' }, 'Set'),
        h('button', { type: 'button', class: 'small', onclick: () => clear(resetArea) }, 'Cancel'),
      );
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        void update(
          user,
          { password: input.value },
          `New password set for ${user.username}; their sessions have ended.`,
        );
      });
      resetArea.append(form);
      input.focus();
    });
    return h(
      'tr',
      { 'data-user': user.username, 'data-disabled': String(user.disabled) },
      h('th', { scope: 'row' }, user.username, self ? h('span', { class: 'muted' }, ' (you)') : null),
      h('td', { 'data-label': 'Role' }, select),
      h(
        'td',
        { 'data-label': 'Status' },
        h(
          'span',
          { class: `badge ${user.disabled ? 'user-disabled' : 'user-active'}` },
          user.disabled ? 'Disabled' : 'Active',
        ),
      ),
      h('td', { 'data-label': 'Created' }, new Date(user.createdAt).toLocaleDateString()),
      h('td', { class: 'actions' }, h('div', { class: 'toolbar' }, toggle, reset), resetArea),
    );
  }

  async function refresh(): Promise<void> {
    const users = await api<User[]>('/users');
    clear(rows);
    rows.append(...users.map(row));
  }

  root.append(
    h('h2', {}, 'Users'),
    feedback,
    h(
      'div',
      { class: 'columns' },
      create,
      h(
        'section',
        { class: 'card', 'aria-label': 'Users' },
        h(
          'table',
          { id: 'user-table', class: 'responsive' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['User', 'Role', 'Status', 'Created', ''].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          rows,
        ),
      ),
    ),
  );
  refresh().catch((error) => root.append(message(errorText(error), 'error')));
  return undefined;
};
