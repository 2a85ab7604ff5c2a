/**
 * SQLITE_DRIVER (issue 18): the server runs the README's quick-start example on either SQLite
 * driver, and says which one it uses in its start-up line and in /readyz.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSqliteDriver, SQLITE_DRIVERS } from '@colloquy/store';
import { makeServerDirs, requiredInCi, startServerProcess, type ServerProcess, type TempServerDirs } from '@colloquy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { requestJson } from './support/test-server.ts';


describe('SQLITE_DRIVER configuration', () => {
  const dirs = makeServerDirs('colloquy-sqlite-config-');
  afterAll(() => dirs.remove());
  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dirs.dataDir, ...env });

  it('is auto unless set', () => {
    expect(load({}).sqliteDriver).toBe('auto');
    expect(load({ SQLITE_DRIVER: 'libsql' }).sqliteDriver).toBe('libsql');
    expect(load({ SQLITE_DRIVER: 'better-sqlite3' }).sqliteDriver).toBe('better-sqlite3');
  });

  it('refuses another value, naming the variable and the choices', () => {
    expect(() => load({ SQLITE_DRIVER: 'sqlite3' })).toThrow(ConfigError);
    expect(() => load({ SQLITE_DRIVER: 'sqlite3' })).toThrow(/SQLITE_DRIVER: .*"auto"\|"better-sqlite3"\|"libsql"/);
  });
});

for (const driver of SQLITE_DRIVERS) {
  const missing = await loadSqliteDriver(driver).then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  // CI builds better-sqlite3; elsewhere a machine without a compiler has only libsql.
  describe.runIf(requiredInCi(`server: the quick start on ${driver}`, missing))(`the quick start on ${driver}`, () => {
    let dirs: TempServerDirs;
    let server: ServerProcess;
    beforeAll(async () => {
      dirs = makeServerDirs('colloquy-sqlite-driver-');
      writeFileSync(join(dirs.inbox, 'file1.txt'), 'Cats sleep about sixteen hours a day.\n');
      server = await startServerProcess({ DATA_DIR: dirs.dataDir, UPLOAD_ROOTS: dirs.inbox, SQLITE_DRIVER: driver });
    });
    afterAll(async () => {
      await server?.stop();
      dirs?.remove();
    });

    it('names the driver in its start-up line', () => {
      const line = server
        .output()
        .split('\n')
        .find((l) => l.includes('listening on'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ store: 'sqlite', storeDriver: driver, msg: expect.stringContaining(`sqlite via ${driver}`) });
    });

    it('names the driver in /readyz', async () => {
      const res = await requestJson(`${server.url}/readyz`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', store: 'ok', storeDriver: driver });
    });

    it("answers the README's upload and blocking converse examples", async () => {
      const upload = await requestJson(`${server.url}/upload_files`, { body: { file_paths: ['file1.txt'] } });
      expect(upload.status, upload.text).toBe(200);
      expect(upload.body).toMatchObject({ message: '文件上传成功', response: [{ name: 'file1.txt' }] });
      const answer = await requestJson(`${server.url}/converse`, {
        body: {
          user_id: 'user123',
          conversation_id: 'conv456',
          manager_id: 'manager789',
          query: 'How long do cats sleep?',
          files: ['file1.txt'],
          response_mode: 'blocking',
        },
      });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toMatchObject({
        event: 'message',
        conversation_id: 'conv456',
        answer: expect.stringContaining('sixteen hours'),
        metadata: { retriever_resources: [expect.objectContaining({ document_name: 'file1.txt' })] },
      });
    });
  });
}
