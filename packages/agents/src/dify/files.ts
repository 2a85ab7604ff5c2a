import { FormData } from 'undici';
import type { AgentFile, AgentTurn } from '../types.ts';
import { UpstreamError } from '../upstream/errors.ts';
import { asObject, asString } from '../upstream/json.ts';
import { openUpstream } from '../upstream/open.ts';
import { joinUrl } from '../upstream/options.ts';
import { readJson } from '../upstream/read-json.ts';
import { authHeaders, type DifyContext } from './context.ts';

/** A file reference in a /chat-messages request. */
export interface DifyFileRef {
  type: 'image' | 'audio' | 'video' | 'document';
  transfer_method: 'local_file';
  upload_file_id: string;
}

/**
 * The turn's files as Dify references, uploading each file that has no upstream id for this
 * agent yet (once; `turn.onFileUploaded` hands the new id to the caller to keep).
 */
export async function difyFileRefs(ctx: DifyContext, turn: AgentTurn, signal: AbortSignal): Promise<DifyFileRef[]> {
  const refs: DifyFileRef[] = [];
  const seen = new Set<string>();
  for (const file of turn.files) {
    if (seen.has(file.id)) continue;
    seen.add(file.id);
    let uploadId = file.upstreamIds[ctx.agentId];
    if (!uploadId) {
      uploadId = await uploadFile(ctx, file, turn, signal);
      await turn.onFileUploaded?.(file.id, uploadId);
    }
    refs.push({ type: difyFileType(file.mimeType), transfer_method: 'local_file', upload_file_id: uploadId });
  }
  return refs;
}

async function uploadFile(ctx: DifyContext, file: AgentFile, turn: AgentTurn, signal: AbortSignal): Promise<string> {
  if (!turn.fileData) {
    throw new Error(`File "${file.name}" must be uploaded to Dify, but the turn gives no access to its content (fileData)`);
  }
  const data = await turn.fileData(file.id);
  // undici's own FormData: undici.request encodes it as multipart, but rejects Node 20's global
  // FormData (that one comes from the undici bundled with Node, another version).
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)], { type: file.mimeType }), file.name);
  form.append('user', turn.userId);
  const opened = await openUpstream(
    ctx.up,
    { url: joinUrl(ctx.baseUrl, 'files/upload'), method: 'POST', headers: authHeaders(ctx), body: form },
    signal,
  );
  const id = asString(asObject(await readJson(ctx.up, opened, signal))?.id);
  if (!id) {
    throw new UpstreamError(`${ctx.up.label} accepted "${file.name}" but returned no file id`, {
      code: 'invalid_response',
      secrets: ctx.up.secrets,
    });
  }
  return id;
}

/** Dify checks a file's extension against its declared type; everything textual is a document. */
function difyFileType(mimeType: string): DifyFileRef['type'] {
  const major = mimeType.split('/')[0]?.toLowerCase();
  return major === 'image' || major === 'audio' || major === 'video' ? major : 'document';
}
