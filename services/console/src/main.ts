import './styles.css';
import { api, forgetImages, whenUnauthorized } from './api.client.js';
import { clear, h } from './dom.js';
import { loadSession, type Session, saveSession } from './session.js';
import { unlockAudio } from './sound.js';
import { accountView } from './views/account.view.js';
import { authorisationsView } from './views/authorisations.view.js';
import { deploymentsView } from './views/deployments.view.js';
import { loginView } from './views/login.view.js';
import { officerView } from './views/officer.view.js';
import { operatorView } from './views/operator.view.js';
import { oversightView } from './views/oversight.view.js';
import { roleName } from './views/roles.js';
import { usersView } from './views/users.view.js';
import { watchlistsView } from './views/watchlists.view.js';

/** A view renders into `root` and returns a function that stops its timers and sockets. */
export type View = (root: HTMLElement, session: Session) => (() => void) | undefined;

interface Route {
  path: string;
  title: string;
  /** Who sees the view: a list of roles, or everyone who is logged in. */
  roles: Session['user']['role'][] | 'everyone';
  view: View;
}

const ROUTES: Route[] = [
  { path: 'operator', title: 'Operator', roles: ['operator', 'admin'], view: operatorView },
  { path: 'officer', title: 'Officer', roles: ['officer', 'operator', 'admin'], view: officerView },
  { path: 'watchlists', title: 'Watchlists', roles: ['watchlist_manager', 'admin'], view: watchlistsView },
  { path: 'deployments', title: 'Deployments', roles: ['admin'], view: deploymentsView },
  { path: 'oversight', title: 'Oversight', roles: ['oversight', 'admin'], view: oversightView },
  {
    path: 'authorisations',
    title: 'Authorisations',
    roles: ['authoriser', 'oversight', 'admin'],
    view: authorisationsView,
  },
  { path: 'users', title: 'Users', roles: ['admin'], view: usersView },
  // Last: never the view a login lands on.
  { path: 'account', title: 'Account', roles: 'everyone', view: accountView },
];

function allows(route: Route, role: Session['user']['role']): boolean {
  return route.roles === 'everyone' || route.roles.includes(role);
}

const app = document.querySelector<HTMLDivElement>('#app');
let stopView: (() => void) | undefined;

function currentPath(): string {
  return location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
}

function render(): void {
  if (!app) return;
  stopView?.();
  stopView = undefined;
  clear(app);
  const session = loadSession();
  if (!session) {
    app.append(
      loginView((next) => {
        unlockAudio();
        saveSession(next);
        const first = ROUTES.find((route) => allows(route, next.user.role));
        if (first && !ROUTES.some((r) => r.path === currentPath() && allows(r, next.user.role)))
          location.hash = `#/${first.path}`;
        render();
      }),
    );
    return;
  }
  const allowed = ROUTES.filter((route) => allows(route, session.user.role));
  const route = allowed.find((r) => r.path === currentPath()) ?? allowed[0];
  const main = h('main', { id: 'view', tabindex: '-1' });
  const nav = h(
    'nav',
    { 'aria-label': 'Views' },
    h(
      'ul',
      {},
      allowed.map((r) =>
        h('li', {}, h('a', { href: `#/${r.path}`, 'aria-current': r === route ? 'page' : null }, r.title)),
      ),
    ),
    h(
      'div',
      { class: 'who' },
      h('span', { id: 'whoami' }, `${session.user.username} (${roleName(session.user.role)})`),
      h(
        'button',
        {
          type: 'button',
          id: 'logout',
          onclick: () => {
            void api('/auth/logout', { method: 'POST' }).catch(() => {});
            saveSession(null);
            forgetImages();
            render();
          },
        },
        'Log out',
      ),
    ),
  );
  app.append(h('header', {}, h('h1', {}, 'Vigil'), nav), main);
  if (!route) {
    main.append(h('p', {}, 'This role has no view in the console.'));
    return;
  }
  document.title = `Vigil · ${route.title}`;
  stopView = route.view(main, session) ?? undefined;
}

whenUnauthorized(() => render());
window.addEventListener('hashchange', render);
render();
