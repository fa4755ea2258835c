import { ApiError, api } from '../api.client.js';
import { h } from '../dom.js';
import type { View } from '../main.js';
import { roleName, sentence } from './roles.js';
import { errorText } from './shared.js';

function refusal(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'wrong_current_password') return 'The current password is wrong.';
    if (error.code === 'account_locked') return 'Too many wrong attempts: wait a few minutes and try again.';
    return sentence(error.message);
  }
  return sentence(errorText(error));
}

/** Every role: who you are, and a new password (the one an admin gave you, changed). */
export const accountView: View = (root, session) => {
  const feedback = h('p', { class: 'action-status', role: 'status', id: 'account-feedback' });
  const field = (id: string, autocomplete: string) =>
    h('input', { id, type: 'password', required: true, maxlength: 256, autocomplete });
  const current = field('current-password', 'current-password');
  const next = field('new-password', 'new-password');
  const repeat = field('repeat-password', 'new-password');
  next.minLength = 12;
  const form = h(
    'form',
    { class: 'card narrow-card', id: 'password-form' },
    h('h3', {}, 'Change your password'),
    h('label', { for: 'current-password' }, 'Current password'),
    current,
    h('label', { for: 'new-password' }, 'New password'),
    next,
    h('label', { for: 'repeat-password' }, 'New password again'),
    repeat,
    h(
      'p',
      { class: 'muted hint' },
      'At least 12 characters, not containing your username. Your other sessions are logged out.',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Change password'),
    feedback,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (next.value !== repeat.value) {
      feedback.textContent = 'The two new passwords differ.';
      return;
    }
    api('/auth/password', {
      method: 'POST',
      body: { currentPassword: current.value, newPassword: next.value },
    }).then(
      () => {
        form.reset();
        feedback.textContent = 'Password changed. Your other sessions have been logged out.';
      },
      (error) => {
        feedback.textContent = refusal(error);
      },
    );
  });
  root.append(
    h('h2', {}, 'Account'),
    h(
      'p',
      { id: 'account-who' },
      'Logged in as ',
      h('strong', {}, session.user.username),
      `, ${roleName(session.user.role)}.`,
    ),
    form,
  );
  return undefined;
};
