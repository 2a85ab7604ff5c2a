import type { FileInfo } from '@colloquy/sdk';
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';

interface Attachments {
  files: FileInfo[];
  attach(file: FileInfo): void;
  detach(id: string): void;
  clear(): void;
}

const AttachmentsContext = createContext<Attachments | null>(null);

/** The files the next question will carry (chosen on the Files page or dropped on the chat). */
export function AttachmentsProvider({ children }: { children: ReactNode }) {
  const [files, setFiles] = useState<FileInfo[]>([]);
  const value = useMemo<Attachments>(
    () => ({
      files,
      attach: (file) => setFiles((fs) => (fs.some((f) => f.id === file.id) ? fs : [...fs, file])),
      detach: (id) => setFiles((fs) => fs.filter((f) => f.id !== id)),
      clear: () => setFiles([]),
    }),
    [files],
  );
  return <AttachmentsContext.Provider value={value}>{children}</AttachmentsContext.Provider>;
}

export function useAttachments(): Attachments {
  const value = useContext(AttachmentsContext);
  if (!value) throw new Error('useAttachments outside AttachmentsProvider');
  return value;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
