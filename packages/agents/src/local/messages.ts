export type Language = 'en' | 'zh';

const MAX_NAMES = 5;

/** Texts of the local agent's answers, per language. */
export const MESSAGES: Record<
  Language,
  {
    found(names: string[], count: number): string;
    noFiles(): string;
    noText(names: string[]): string;
    nothingRelevant(names: string[]): string;
    howToAdd(): string;
  }
> = {
  en: {
    found: (names, count) =>
      `I found ${count} relevant ${count === 1 ? 'passage' : 'passages'} in ${listEn(names)}:`,
    noFiles: () => "There are no documents in this conversation, so I can't answer from them.",
    noText: (names) =>
      `None of the attached files (${listEn(names)}) has text I can search; ` +
      'supported types are .txt, .md, .csv, .json and .html.',
    nothingRelevant: (names) =>
      `I couldn't find anything relevant to your question in the attached documents (${listEn(names)}).`,
    howToAdd: () =>
      'To add documents, upload them with `POST /upload_files` `{"file_paths": [...]}` ' +
      "(or the SDK's `files.uploadPaths`) and pass their ids or paths in `files` when conversing.",
  },
  zh: {
    found: (names, count) => `我在 ${listZh(names)} 中找到了 ${count} 段相关内容：`,
    noFiles: () => '当前对话中没有任何文档，无法根据文档回答。',
    noText: (names) =>
      `所附文件（${listZh(names)}）中没有可检索的文本；支持的类型有 .txt、.md、.csv、.json 和 .html。`,
    nothingRelevant: (names) => `在所附文档（${listZh(names)}）中没有找到与您的问题相关的内容。`,
    howToAdd: () =>
      '如需添加文档，请用 `POST /upload_files` `{"file_paths": [...]}` 上传' +
      '（或使用 SDK 的 `files.uploadPaths`），并在对话时通过 `files` 传入文件的 id 或路径。',
  },
};

function listEn(names: string[]): string {
  const shown = names.slice(0, MAX_NAMES);
  const rest = names.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  if (shown.length <= 2) return shown.join(' and ');
  return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

function listZh(names: string[]): string {
  const shown = names.slice(0, MAX_NAMES);
  const rest = names.length - shown.length;
  return rest > 0 ? `${shown.join('、')} 等 ${names.length} 个文件` : shown.join('、');
}
