import { existsSync } from 'node:fs';
import { requiredInCi } from './services.ts';

/** Debian's Chromium, or CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Flags for a headless Chromium on this closed network: without the background-networking ones
 * it keeps dialling Google's hosts and gets refused, many connections at a time.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Chromium's fake camera and an auto-accepted permission prompt, for getUserMedia tests. */
export const CHROMIUM_FAKE_MEDIA_ARGS: readonly string[] = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

/** requiredInCi for a suite that drives Chromium: true when it is installed. */
export function chromiumAvailable(suite: string): boolean {
  return requiredInCi(
    suite,
    existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
}
