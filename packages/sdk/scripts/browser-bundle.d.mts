/** The SDK bundled for a browser page (see browser-bundle.mjs): the bundle's bytes. */
export function bundleForBrowser(options?: { minify?: boolean }): Promise<Uint8Array>;
