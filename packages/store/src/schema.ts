import type { Generated } from 'kysely';

/**
 * Row shapes as stored, shared by every dialect. JSON columns hold text; the store decodes
 * them. Integer columns arrive as numbers on both SQLite and PostgreSQL (whose int8 the
 * PostgreSQL opener parses into numbers).
 */
export interface ConversationsTable {
  id: string;
  user_id: string;
  agent_id: string;
  name: string;
  manager_id: string | null;
  upstream_id: string | null;
  /** JSON object: the app inputs (Dify's `inputs`) the conversation was started with. */
  inputs: string;
  created_at: number;
  updated_at: number;
}

export interface MessagesTable {
  seq: Generated<number>;
  id: string;
  /** With conversation_id, the conversation's key (conversations are per user). */
  user_id: string;
  conversation_id: string;
  role: string;
  content: string;
  file_ids: string;
  status: string;
  usage: string | null;
  citations: string;
  error: string | null;
  last_event_id: number;
  created_at: number;
  updated_at: number;
  /** The instance running the turn while the message is `streaming` (null for older rows). */
  owner_instance?: string | null;
}

export interface FilesTable {
  id: string;
  user_id: string;
  name: string;
  size: number;
  mime_type: string;
  sha256: string;
  origin_kind: string;
  origin: string;
  upstream_ids: string;
  created_at: number;
}

/** Extracted text, one row per file that has any (apart, so file rows stay small). */
export interface FileTextsTable {
  file_id: string;
  text: string;
}

export interface InstancesTable {
  id: string;
  machine: string;
  pid: number;
  started_at: number;
  expires_at: number;
}

export interface BlobChunksTable {
  sha256: string;
  seq: number;
  data: Uint8Array;
}

export interface Database {
  instances: InstancesTable;
  blob_chunks: BlobChunksTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  files: FilesTable;
  file_texts: FileTextsTable;
}
