export type Theme = 'system' | 'light' | 'dark';
const KEY = 'colloquy.theme';

export function loadTheme(): Theme {
  const saved = localStorage.getItem(KEY);
  return saved === 'light' || saved === 'dark' ? saved : 'system';
}

/** `data-theme` on <html> picks the palette; `system` follows prefers-color-scheme (in CSS). */
export function applyTheme(theme: Theme): void {
  if (theme === 'system') {
    delete document.documentElement.dataset.theme;
    localStorage.removeItem(KEY);
  } else {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem(KEY, theme);
  }
}
