export type Theme = 'system' | 'light' | 'dark';
const KEY = 'colloquy.theme';
const prefersDark = window.matchMedia('(prefers-color-scheme: dark)');
let chosen: Theme = 'system';

export function loadTheme(): Theme {
  const saved = localStorage.getItem(KEY);
  return saved === 'light' || saved === 'dark' ? saved : 'system';
}

/**
 * `data-theme` on <html> picks the palette, always set: `system` is resolved here from
 * prefers-color-scheme (and follows its changes), so the stylesheet declares each palette once.
 */
export function applyTheme(theme: Theme): void {
  chosen = theme;
  if (theme === 'system') localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, theme);
  paint();
}

function paint(): void {
  document.documentElement.dataset.theme = chosen === 'system' ? (prefersDark.matches ? 'dark' : 'light') : chosen;
}

prefersDark.addEventListener('change', paint);
