import { sql, type CompiledQuery, type Kysely, type Selectable } from 'kysely';
import { createGroupCommit, type GroupWork } from './group-commit.ts';
import { afterDescending } from './keyset.ts';
import { reusableQuery } from './reusable-query.ts';
import type { ConversationsTable, Database, FilesTable, InstancesTable, MessagesTable } from './schema.ts';
import type {
  BeginTurn,
  Citation,
  ConversationRecord,
  FileRecord,
  FileSummary,
  MessageRecord,
  HistoryEntry,
  MessageRole,
  MessageStatus,
  NewConversation,
  FileOriginKind,
  Store,
  Usage,
} from './types.ts';

/**
 * The Store over Kysely, shared by SQLite and PostgreSQL. Queries stay in Kysely's portable
 * subset; table creation differs per dialect (see each dialect's migrations) and row locking
 * is the one place that checks `kind`.
 */
export function createKyselyStore(
  db: Kysely<Database>,
  { kind, driver }: Pick<Store, 'kind' | 'driver'>,
  onClose: () => Promise<void>,
  /** Run by `ping` first (SQLite: the database file is still the one opened). */
  healthCheck?: () => Promise<void>,
  /**
   * Group commit of the turn writes (`beginTurn`, `messages.update`): concurrent callers' writes
   * share one transaction per event-loop turn (see group-commit.ts). SQLite only: PostgreSQL
   * commits concurrent transactions on a pool of connections, already grouping their WAL flushes.
   */
  groupCommit = false,
): Store {
  const group = groupCommit ? createGroupCommit(db) : undefined;
  /** A turn write that needs a transaction of its own when not grouped. */
  const writeTurn = <T>(work: GroupWork<Database, T>): Promise<T> => (group ? group.run(work) : db.transaction().execute(work));
  /** A single-statement turn write: grouped, or run alone (atomic by itself). */
  const writeOne = <T>(work: GroupWork<Database, T>): Promise<T> => (group ? group.run(work) : work(db));
  // The statements every conversation turn runs, compiled once (see reusableQuery).
  const hot = {
    conversationById: reusableQuery((userId: string, id: string) =>
      db.selectFrom('conversations').selectAll().where('user_id', '=', userId).where('id', '=', id),
    ),
    latestConversation: reusableQuery((userId: string) =>
      db
        .selectFrom('conversations')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('updated_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1),
    ),
    updateConversation: reusableQuery((userId: string, id: string, set: Partial<ConversationsTable>) =>
      db.updateTable('conversations').set(set).where('user_id', '=', userId).where('id', '=', id).returningAll(),
    ),
    touchConversation: reusableQuery((userId: string, id: string, set: Partial<ConversationsTable>) =>
      db.updateTable('conversations').set(set).where('user_id', '=', userId).where('id', '=', id),
    ),
    insertConversation: reusableQuery((row: ConversationsTable) => db.insertInto('conversations').values(row)),
    messageById: reusableQuery((id: string) => db.selectFrom('messages').selectAll().where('id', '=', id)),
    messagesOf: reusableQuery((userId: string, conversationId: string) =>
      db
        .selectFrom('messages')
        .selectAll()
        .where('user_id', '=', userId)
        .where('conversation_id', '=', conversationId)
        .orderBy('seq', 'asc'),
    ),
    // History pages: newest first from an anchor, four columns (no JSON to parse per row).
    historyBeforeId: reusableQuery((userId: string, conversationId: string, beforeId: string, limit: number) =>
      db
        .selectFrom('messages')
        .select(['seq', 'role', 'content', 'status'])
        .where('user_id', '=', userId)
        .where('conversation_id', '=', conversationId)
        .where('seq', '<', (eb) =>
          eb.selectFrom('messages').select('seq').where('id', '=', beforeId).where('user_id', '=', userId).where('conversation_id', '=', conversationId),
        )
        .orderBy('seq', 'desc')
        .limit(limit),
    ),
    historyBeforeSeq: reusableQuery((userId: string, conversationId: string, beforeSeq: number, limit: number) =>
      db
        .selectFrom('messages')
        .select(['seq', 'role', 'content', 'status'])
        .where('user_id', '=', userId)
        .where('conversation_id', '=', conversationId)
        .where('seq', '<', beforeSeq)
        .orderBy('seq', 'desc')
        .limit(limit),
    ),
    historySince: reusableQuery((userId: string, conversationId: string, windowStart: number, fromSeq: number, beforeId: string, limit: number) =>
      db
        .selectFrom('messages')
        .select(['seq', 'role', 'content', 'status', 'file_ids'])
        // Uncorrelated: evaluated once per statement, over the index only, in the same snapshot.
        .select((eb) =>
          eb
            .selectFrom('messages as w')
            .select((c) => c.fn.countAll<number | string>().as('n'))
            .where('w.user_id', '=', userId)
            .where('w.conversation_id', '=', conversationId)
            .where('w.seq', '>=', windowStart)
            .where('w.seq', '<', fromSeq)
            .as('settled'),
        )
        .where('user_id', '=', userId)
        .where('conversation_id', '=', conversationId)
        .where('seq', '>=', fromSeq)
        .where('seq', '<', (eb) =>
          eb.selectFrom('messages').select('seq').where('id', '=', beforeId).where('user_id', '=', userId).where('conversation_id', '=', conversationId),
        )
        .orderBy('seq', 'asc')
        .limit(limit),
    ),
    updateMessage: reusableQuery((id: string, set: Partial<Omit<MessagesTable, 'seq'>>) =>
      db.updateTable('messages').set(set).where('id', '=', id).returningAll(),
    ),
    insertTwoMessages: reusableQuery((a: Omit<MessagesTable, 'seq'>, b: Omit<MessagesTable, 'seq'>) =>
      db.insertInto('messages').values([a, b]),
    ),
    renewInstance: reusableQuery((row: InstancesTable) =>
      db
        .insertInto('instances')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') })),
    ),
  };
  const first = async <R>(q: CompiledQuery<R>, on: Kysely<Database> = db): Promise<R | undefined> =>
    (await on.executeQuery(q)).rows[0];
  /** File rows and whether each has a text, without reading any text. */
  const summaries = () =>
    db
      .selectFrom('files')
      .selectAll()
      .select((eb) =>
        eb.exists(eb.selectFrom('file_texts').select('file_texts.file_id').whereRef('file_texts.file_id', '=', 'files.id')).as('has_text'),
      );
  /** File rows with their text ('' when it has none). */
  const withText = () =>
    db
      .selectFrom('files')
      .leftJoin('file_texts', 'file_texts.file_id', 'files.id')
      .selectAll('files')
      .select((eb) => eb.fn.coalesce('file_texts.text', sql.lit('')).as('text'));

  return {
    kind,
    driver,
    conversations: {
      async get(userId, id) {
        const row = await first(hot.conversationById(userId, id));
        return row && toConversation(row);
      },
      async findById(id, limit) {
        const rows = await db.selectFrom('conversations').selectAll().where('id', '=', id).orderBy('user_id').limit(limit).execute();
        return rows.map(toConversation);
      },
      async list({ userId, managerId, limit, after }) {
        let q = db.selectFrom('conversations').selectAll();
        if (userId !== undefined) q = q.where('user_id', '=', userId);
        if (managerId !== undefined) q = q.where('manager_id', '=', managerId);
        if (after) {
          // Across users, the same id at the same time: the user breaks the tie.
          const tie = userId === undefined && after.userId !== undefined ? [['user_id', after.userId] as const] : [];
          q = q.where((eb) => afterDescending(eb, [['updated_at', after.updatedAt], ['id', after.id], ...tie]));
        }
        q = q.orderBy('updated_at', 'desc').orderBy('id', 'desc');
        if (userId === undefined) q = q.orderBy('user_id', 'desc');
        const rows = await q.limit(limit).execute();
        return rows.map(toConversation);
      },
      async latestForUser(userId) {
        const row = await first(hot.latestConversation(userId));
        return row && toConversation(row);
      },
      async create(c) {
        await db.insertInto('conversations').values(fromConversation(c)).execute();
        return { ...c, inputs: c.inputs ?? {} };
      },
      async update(userId, id, patch) {
        const set: Partial<ConversationsTable> = {};
        if (patch.name !== undefined) set.name = patch.name;
        if (patch.agentId !== undefined) set.agent_id = patch.agentId;
        if (patch.upstreamId !== undefined) set.upstream_id = patch.upstreamId;
        if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
        // RETURNING: one statement instead of an UPDATE and a re-read (SQLite ≥ 3.35 and PostgreSQL).
        const row = await first(
          Object.keys(set).length > 0 ? hot.updateConversation(userId, id, set) : hot.conversationById(userId, id),
        );
        return row && toConversation(row);
      },
      async delete(userId, id) {
        return db.transaction().execute(async (trx) => {
          // Explicit rather than relying on ON DELETE CASCADE alone: a PostgreSQL schema
          // or a SQLite connection without foreign keys must behave the same.
          await trx.deleteFrom('messages').where('user_id', '=', userId).where('conversation_id', '=', id).execute();
          const res = await trx.deleteFrom('conversations').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
          return Number(res.numDeletedRows) > 0;
        });
      },
    },
    messages: {
      async get(id) {
        const row = await first(hot.messageById(id));
        return row && toMessage(row);
      },
      async list({ userId, conversationId, limit, afterId, beforeId, fromEnd }) {
        let q = db.selectFrom('messages').selectAll().where('user_id', '=', userId).where('conversation_id', '=', conversationId);
        const seqOf = (id: string) =>
          db.selectFrom('messages').select('seq').where('id', '=', id).where('user_id', '=', userId).where('conversation_id', '=', conversationId);
        if (afterId !== undefined) q = q.where('seq', '>', seqOf(afterId));
        if (beforeId !== undefined) q = q.where('seq', '<', seqOf(beforeId));
        if (beforeId === undefined && !fromEnd) {
          const rows = await q.orderBy('seq', 'asc').limit(limit).execute();
          return rows.map(toMessage);
        }
        // Backwards: the newest `limit` before the anchor, returned oldest first like every page.
        const rows = await q.orderBy('seq', 'desc').limit(limit).execute();
        return rows.reverse().map(toMessage);
      },
      async listAll(userId, conversationId) {
        const { rows } = await db.executeQuery(hot.messagesOf(userId, conversationId));
        return rows.map(toMessage);
      },
      async historyPage(userId, conversationId, before, limit) {
        const q =
          'seq' in before
            ? hot.historyBeforeSeq(userId, conversationId, before.seq, limit)
            : hot.historyBeforeId(userId, conversationId, before.id, limit);
        const { rows } = await db.executeQuery(q);
        return rows.map(toHistoryEntry);
      },
      async historySince(userId, conversationId, { windowStart, fromSeq }, beforeId, limit) {
        const { rows } = await db.executeQuery(hot.historySince(userId, conversationId, windowStart, fromSeq, beforeId, limit));
        const settled = Number(rows[0]?.settled ?? 0);
        return {
          settled,
          // Most messages carry no files: no JSON parsed for them.
          rows: rows.map((r) => ({ ...toHistoryEntry(r), fileIds: r.file_ids === '[]' ? [] : parseJson<string[]>(r.file_ids, []) })),
        };
      },
      async fileIdsBefore(userId, conversationId, beforeId) {
        const rows = await db
          .selectFrom('messages')
          .select('file_ids')
          .where('user_id', '=', userId)
          .where('conversation_id', '=', conversationId)
          // A literal, not a parameter: only then can SQLite and PostgreSQL use the partial
          // index `messages_with_files` (its condition must be implied by the query's).
          .where(sql<boolean>`file_ids <> '[]'`)
          .where('seq', '<', (eb) =>
            eb.selectFrom('messages').select('seq').where('id', '=', beforeId).where('user_id', '=', userId).where('conversation_id', '=', conversationId),
          )
          .orderBy('seq', 'asc')
          .execute();
        return rows.map((r) => parseJson<string[]>(r.file_ids, []));
      },
      async update(id, patch) {
        const set: Partial<Omit<MessagesTable, 'seq'>> = {};
        if (patch.content !== undefined) set.content = patch.content;
        if (patch.status !== undefined) set.status = patch.status;
        if (patch.usage !== undefined) set.usage = patch.usage === null ? null : JSON.stringify(patch.usage);
        if (patch.citations !== undefined) set.citations = JSON.stringify(patch.citations);
        if (patch.error !== undefined) set.error = patch.error;
        if (patch.lastEventId !== undefined) set.last_event_id = patch.lastEventId;
        if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
        const q = Object.keys(set).length > 0 ? hot.updateMessage(id, set) : hot.messageById(id);
        const row = await writeOne((on) => first(q, on));
        return row && toMessage(row);
      },
      async interruptOrphaned(deadOwners, now) {
        const rows = await db
          .updateTable('messages')
          .set({ status: 'interrupted', updated_at: now })
          .where('status', '=', 'streaming')
          .where((eb) =>
            eb.or([
              eb('owner_instance', 'is', null),
              eb('owner_instance', 'not in', eb.selectFrom('instances').select('id')),
              ...(deadOwners.length > 0 ? [eb('owner_instance', 'in', deadOwners)] : []),
            ]),
          )
          .returning(['id', 'conversation_id'])
          .execute();
        return rows.map((r) => ({ id: r.id, conversationId: r.conversation_id }));
      },
      async ownerOf(id) {
        const row = await db.selectFrom('messages').select('owner_instance').where('id', '=', id).executeTakeFirst();
        return row ? (row.owner_instance ?? null) : undefined;
      },
      async interruptStreaming(now) {
        const res = await db
          .updateTable('messages')
          .set({ status: 'interrupted', updated_at: now })
          .where('status', '=', 'streaming')
          .executeTakeFirst();
        return Number(res.numUpdatedRows);
      },
    },
    files: {
      async get(id) {
        const row = await withText().where('files.id', '=', id).executeTakeFirst();
        return row && toFile(row);
      },
      async getSummary(id) {
        const row = await summaries().where('id', '=', id).executeTakeFirst();
        return row && toFileSummary(row);
      },
      async findByOrigin(origin, userId) {
        let q = withText().where('files.origin', '=', origin);
        if (userId !== undefined) q = q.where('files.user_id', '=', userId);
        const row = await q.orderBy('files.created_at', 'desc').orderBy('files.id', 'desc').limit(1).executeTakeFirst();
        return row && toFile(row);
      },
      async findByOwnerAndContent(userId, sha256, origin) {
        const row = await summaries()
          .where('user_id', '=', userId)
          .where('sha256', '=', sha256)
          .where('origin', '=', origin)
          .limit(1)
          .executeTakeFirst();
        return row && toFileSummary(row);
      },
      async list({ userId, limit, afterId }) {
        let q = summaries();
        if (userId !== undefined) q = q.where('user_id', '=', userId);
        if (afterId !== undefined) {
          const anchor = await db.selectFrom('files').select(['created_at', 'id']).where('id', '=', afterId).executeTakeFirst();
          if (!anchor) return [];
          q = q.where((eb) => afterDescending(eb, [['created_at', anchor.created_at], ['id', anchor.id]]));
        }
        const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
        return rows.map(toFileSummary);
      },
      async insertMany(files) {
        if (files.length === 0) return;
        await db.transaction().execute(async (trx) => {
          const inserted = await trx
            .insertInto('files')
            .values(files.map(fromFile))
            .onConflict((oc) => oc.columns(['user_id', 'sha256', 'origin']).doNothing())
            .returning('id')
            .execute();
          // Texts of the rows actually inserted (a skipped duplicate keeps the stored one's).
          const ids = new Set(inserted.map((r) => r.id));
          const texts = files.filter((f) => ids.has(f.id) && f.text !== '').map((f) => ({ file_id: f.id, text: f.text }));
          // One row per statement: a text may be megabytes, and SQLite and PostgreSQL both cap a
          // statement's parameters, not their size.
          for (const row of texts) await trx.insertInto('file_texts').values(row).execute();
        });
      },
      async setUpstreamId(id, agentId, upstreamId) {
        await db.transaction().execute(async (trx) => {
          let read = trx.selectFrom('files').select('upstream_ids').where('id', '=', id);
          // SQLite runs one transaction at a time; on PostgreSQL two concurrent calls for
          // different agents would both read the old map and one key would be lost.
          if (kind === 'postgres') read = read.forUpdate();
          const row = await read.executeTakeFirst();
          if (!row) return;
          const ids = { ...parseJson<Record<string, string>>(row.upstream_ids, {}), [agentId]: upstreamId };
          await trx.updateTable('files').set({ upstream_ids: JSON.stringify(ids) }).where('id', '=', id).execute();
        });
      },
      async delete(id) {
        return db.transaction().execute(async (trx) => {
          // Explicit, as for conversations: the same without ON DELETE CASCADE.
          await trx.deleteFrom('file_texts').where('file_id', '=', id).execute();
          const res = await trx.deleteFrom('files').where('id', '=', id).executeTakeFirst();
          return Number(res.numDeletedRows) > 0;
        });
      },
      async countBySha256(sha256) {
        const row = await db
          .selectFrom('files')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('sha256', '=', sha256)
          .executeTakeFirstOrThrow();
        return Number(row.n);
      },
    },
    instances: {
      async renew(i) {
        await db.executeQuery(
          hot.renewInstance({ id: i.id, machine: i.machine, pid: i.pid, started_at: i.startedAt, expires_at: i.expiresAt }),
        );
      },
      async list() {
        const rows = await db.selectFrom('instances').selectAll().execute();
        return rows.map((r) => ({
          id: r.id,
          machine: r.machine,
          pid: Number(r.pid),
          startedAt: Number(r.started_at),
          expiresAt: Number(r.expires_at),
        }));
      },
      async remove(ids) {
        if (ids.length === 0) return;
        await db.deleteFrom('instances').where('id', 'in', ids).execute();
      },
    },
    blobContents: {
      async has(sha256) {
        const row = await db.selectFrom('blob_chunks').select('seq').where('sha256', '=', sha256).where('seq', '=', 0).executeTakeFirst();
        return row !== undefined;
      },
      async write(sha256, chunks) {
        return db.transaction().execute(async (trx) => {
          let seq = 0;
          for await (const chunk of chunks) {
            const res = await trx
              .insertInto('blob_chunks')
              .values({ sha256, seq, data: chunk })
              .onConflict((oc) => oc.columns(['sha256', 'seq']).doNothing())
              .executeTakeFirst();
            // Already stored (by an earlier or a concurrent upload of the same content).
            if (seq === 0 && Number(res.numInsertedOrUpdatedRows ?? 0) === 0) return false;
            seq += 1;
          }
          if (seq === 0) await trx.insertInto('blob_chunks').values({ sha256, seq: 0, data: new Uint8Array(0) }).onConflict((oc) => oc.columns(['sha256', 'seq']).doNothing()).execute();
          return true;
        });
      },
      async *read(sha256) {
        // A chunk at a time: a large file is never one value in memory.
        for (let seq = 0; ; seq++) {
          const row = await db.selectFrom('blob_chunks').select('data').where('sha256', '=', sha256).where('seq', '=', seq).executeTakeFirst();
          if (!row) return;
          // pg and better-sqlite3 give a Buffer, libsql an ArrayBuffer.
          const data: unknown = row.data;
          yield data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);
        }
      },
      async remove(sha256) {
        await db.deleteFrom('blob_chunks').where('sha256', '=', sha256).execute();
      },
    },
    async beginTurn(turn: BeginTurn) {
      await writeTurn(async (trx) => {
        if ('create' in turn.conversation) {
          await trx.executeQuery(hot.insertConversation(fromConversation(turn.conversation.create)));
        } else {
          const { userId, id, updatedAt, name } = turn.conversation.touch;
          await trx.executeQuery(
            hot.touchConversation(userId, id, name === undefined ? { updated_at: updatedAt } : { updated_at: updatedAt, name }),
          );
        }
        // Both rows with the same columns: one multi-row INSERT of one compiled shape.
        const user = { ...fromMessage(turn.userMessage), owner_instance: null };
        const assistant = { ...fromMessage(turn.assistantMessage), owner_instance: turn.ownerInstance ?? null };
        await trx.executeQuery(hot.insertTwoMessages(user, assistant));
      });
    },
    async ping() {
      await healthCheck?.();
      await db.selectFrom('conversations').select('id').limit(1).execute();
    },
    async close() {
      // Queued turn writes commit before the connection closes.
      await group?.close();
      await onClose();
    },
  };
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toConversation(r: Selectable<ConversationsTable>): ConversationRecord {
  return {
    id: r.id,
    userId: r.user_id,
    agentId: r.agent_id,
    name: r.name,
    managerId: r.manager_id,
    upstreamId: r.upstream_id,
    inputs: parseJson<Record<string, unknown>>(r.inputs, {}),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function fromConversation(c: NewConversation): ConversationsTable {
  return {
    id: c.id,
    user_id: c.userId,
    agent_id: c.agentId,
    name: c.name,
    manager_id: c.managerId,
    upstream_id: c.upstreamId,
    inputs: JSON.stringify(c.inputs ?? {}),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

/** The columns history reads of a message (historyPage, historySince). */
function toHistoryEntry(r: Pick<Selectable<MessagesTable>, 'seq' | 'role' | 'content' | 'status'>): HistoryEntry {
  return { seq: Number(r.seq), role: r.role as MessageRole, content: r.content, status: r.status as MessageStatus };
}

function toMessage(r: Selectable<MessagesTable>): MessageRecord {
  return {
    id: r.id,
    userId: r.user_id,
    conversationId: r.conversation_id,
    role: r.role as MessageRole,
    content: r.content,
    fileIds: parseJson<string[]>(r.file_ids, []),
    status: r.status as MessageStatus,
    usage: parseJson<Usage | null>(r.usage, null),
    citations: parseJson<Citation[]>(r.citations, []),
    error: r.error,
    lastEventId: Number(r.last_event_id),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function fromMessage(m: MessageRecord): Omit<MessagesTable, 'seq'> {
  return {
    id: m.id,
    user_id: m.userId,
    conversation_id: m.conversationId,
    role: m.role,
    content: m.content,
    file_ids: JSON.stringify(m.fileIds),
    status: m.status,
    usage: m.usage === null ? null : JSON.stringify(m.usage),
    citations: JSON.stringify(m.citations),
    error: m.error,
    last_event_id: m.lastEventId,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}

function fileFields(r: Selectable<FilesTable>): Omit<FileSummary, 'hasText'> {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    size: Number(r.size),
    mimeType: r.mime_type,
    sha256: r.sha256,
    originKind: r.origin_kind as FileOriginKind,
    origin: r.origin,
    upstreamIds: parseJson<Record<string, string>>(r.upstream_ids, {}),
    createdAt: Number(r.created_at),
  };
}

function toFile(r: Selectable<FilesTable> & { text: string }): FileRecord {
  return { ...fileFields(r), text: r.text };
}

/** `has_text` is 0/1 on SQLite and a boolean on PostgreSQL. */
function toFileSummary(r: Selectable<FilesTable> & { has_text: unknown }): FileSummary {
  return { ...fileFields(r), hasText: Boolean(r.has_text) };
}

function fromFile(f: FileRecord): FilesTable {
  return {
    id: f.id,
    user_id: f.userId,
    name: f.name,
    size: f.size,
    mime_type: f.mimeType,
    sha256: f.sha256,
    origin_kind: f.originKind,
    origin: f.origin,
    upstream_ids: JSON.stringify(f.upstreamIds),
    created_at: f.createdAt,
  };
}
