/** How far an upload's request body has gone: bytes sent of `total`. */
export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * A fetch that reports its request body's progress. `fetch` cannot (its upload streams need
 * HTTP/2 and give no counts), so in browsers this runs the request on XMLHttpRequest, whose
 * `upload.onprogress` is the only portable source of the figure. Where there is no
 * XMLHttpRequest (Node), the given fetch runs and progress is reported once, at the end.
 */
export function progressFetch(fallback: typeof globalThis.fetch, onProgress: (p: UploadProgress) => void): typeof globalThis.fetch {
  if (typeof XMLHttpRequest === 'undefined') {
    return async (input, init) => {
      const res = await fallback(input, init);
      const size = bodySize(init?.body);
      onProgress({ loaded: size, total: size });
      return res;
    };
  }
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      xhr.open(init?.method ?? 'GET', url);
      xhr.responseType = 'arraybuffer';
      new Headers(init?.headers).forEach((value, name) => xhr.setRequestHeader(name, value));
      xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : 0 });
      const signal = init?.signal;
      const onAbort = () => xhr.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      xhr.onload = () => {
        done();
        const headers = new Headers();
        for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
          const at = line.indexOf(':');
          if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
        }
        const empty = xhr.status === 204 || xhr.status === 205 || xhr.status === 304;
        resolve(new Response(empty ? null : (xhr.response as ArrayBuffer), { status: xhr.status, statusText: xhr.statusText, headers }));
      };
      xhr.onerror = () => {
        done();
        reject(new TypeError('Failed to fetch'));
      };
      xhr.onabort = () => {
        done();
        reject(signal?.reason ?? new DOMException('The upload was aborted', 'AbortError'));
      };
      if (signal?.aborted) {
        xhr.abort();
        return;
      }
      xhr.send((init?.body ?? null) as XMLHttpRequestBodyInit | null);
    });
}

function bodySize(body: BodyInit | null | undefined): number {
  if (body instanceof Blob) return body.size;
  if (body instanceof ArrayBuffer) return body.byteLength;
  if (ArrayBuffer.isView(body)) return body.byteLength;
  if (body instanceof FormData) {
    let n = 0;
    body.forEach((v) => (n += typeof v === 'string' ? v.length : v.size));
    return n;
  }
  return typeof body === 'string' ? body.length : 0;
}
