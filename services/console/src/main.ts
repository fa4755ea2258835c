// The console's entry point. At this stage it shows the server's health; the operator, watchlist,
// deployment and oversight views build on this shell.
const root = document.querySelector<HTMLDivElement>('#app');

async function render(): Promise<void> {
  if (!root) return;
  root.innerHTML = '<h1>Vigil</h1><p id="health">checking the server…</p>';
  const status = root.querySelector<HTMLParagraphElement>('#health');
  try {
    const response = await fetch('/health');
    const body = (await response.json()) as { status?: string };
    if (status) status.textContent = `server: ${body.status ?? 'unknown'}`;
  } catch {
    if (status) status.textContent = 'server: unreachable';
  }
}

void render();
