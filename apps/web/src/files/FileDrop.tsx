import type { FileInfo } from '@colloquy/sdk';
import { useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type DragEvent, type ReactNode } from 'react';
import { useI18n } from '../app/i18n.tsx';
import { useSession } from '../app/session.tsx';

interface Upload {
  name: string;
  loaded: number;
  total: number;
  error?: string;
}

/**
 * Drop files on it (or choose them): each is uploaded (multipart, through the SDK) with a
 * progress bar, and handed to `onUploaded`.
 */
export function FileDrop({ onUploaded, children, className = '' }: { onUploaded?: (file: FileInfo) => void; children?: ReactNode; className?: string }) {
  const { t } = useI18n();
  const { client } = useSession();
  const queryClient = useQueryClient();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [over, setOver] = useState(false);
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);

  const uploadAll = (files: File[]) => {
    for (const file of files) {
      const entry: Upload = { name: file.name, loaded: 0, total: file.size };
      setUploads((u) => [...u, entry]);
      const update = (patch: Partial<Upload>) => {
        Object.assign(entry, patch);
        setUploads((u) => [...u]);
      };
      client.files
        .upload(file, { onProgress: (p) => update({ loaded: p.loaded, total: p.total || file.size }) })
        .then((info) => {
          setUploads((u) => u.filter((x) => x !== entry));
          void queryClient.invalidateQueries({ queryKey: ['files'] });
          onUploaded?.(info);
        })
        .catch((err: unknown) => update({ error: err instanceof Error ? err.message : String(err) }));
    }
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    uploadAll([...e.dataTransfer.files]);
  };
  return (
    <div
      className={`drop ${over ? 'over' : ''} ${className}`}
      data-testid="file-drop"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      {children}
      <div className="drop-row">
        <span>{t.dropHere}</span>
        <label htmlFor={inputId} className="button">
          {t.chooseFiles}
        </label>
        <input
          id={inputId}
          ref={input}
          type="file"
          multiple
          className="sr-only"
          onChange={(e) => {
            uploadAll([...(e.target.files ?? [])]);
            if (input.current) input.current.value = '';
          }}
        />
      </div>
      {uploads.map((u, i) => (
        <div key={`${u.name}-${i}`} className="upload">
          <span>
            {t.uploading} {u.name}
          </span>
          <progress max={u.total || 1} value={u.loaded} aria-label={`${t.uploading} ${u.name}`} />
          {u.error && (
            <span role="alert" className="error">
              {u.error}
            </span>
          )}
        </div>
      ))}
    </div>
  );
}
