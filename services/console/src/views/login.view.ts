import { ApiError, api } from '../api.client.js';
import { h } from '../dom.js';
import type { Session } from '../session.js';

export function loginView(onLogin: (session: Session) => void): HTMLElement {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const form = h(
    'form',
    { class: 'login card', id: 'login-form' },
    h('h1', {}, 'Vigil'),
    h('label', { for: 'username' }, 'Username'),
    username,
    h('label', { for: 'password' }, 'Password'),
    password,
    h('button', { type: 'submit', class: 'primary' }, 'Log in'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    api<Session>('/auth/login', {
      method: 'POST',
      body: { username: username.value, password: password.value },
    }).then(
      (session) => onLogin({ token: session.token, user: session.user }),
      (failure: unknown) => {
        error.textContent = failure instanceof ApiError ? failure.message : 'The server cannot be reached.';
      },
    );
  });
  queueMicrotask(() => username.focus());
  return h('div', { class: 'login-page' }, form);
}
