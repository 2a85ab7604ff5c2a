/**
 * A Node script that uses the SDK exits by itself: the client holds no connection or timer
 * once its calls are done (presence is opt-in; with it on, close() lets go). Each script runs
 * as a child process against a real server; it must exit within 2 s of its last call.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkFixture, type SdkFixture } from './support/fixture.ts';

const script = fileURLToPath(new URL('./support/short-script.ts', import.meta.url));
let fx: SdkFixture;

beforeAll(async () => {
  fx = await startSdkFixture();
});
afterAll(() => fx?.dispose());

interface ScriptRun {
  code: number | null;
  output: string;
  /** From the script's last call to the process's exit, in ms. */
  exitDelayMs: number | undefined;
}

/** Runs the script; kills it (and says so) if it is still running 15 s after its last call. */
function runScript(mode: string): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, fx.server.url, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let lastCall: number | undefined;
    let killer: ReturnType<typeof setTimeout> | undefined;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /LAST_CALL_DONE (\d+)/.exec(output);
      if (m && lastCall === undefined) {
        lastCall = Number(m[1]);
        killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output, exitDelayMs: lastCall === undefined ? undefined : Date.now() - lastCall });
    });
  });
}

describe('a Node script exits by itself', () => {
  // One at a time: the exit delay is measured, and concurrent Node processes would skew it.
  it.for([
    ['calls', 'that only lists conversations (no close())'],
    ['turns', 'that converses, streams, resumes and iterates (no close())'],
    ['failures', 'whose calls time out, abort and are aborted mid-stream (no close())'],
    ['presence', 'that opted into presence and called close()'],
  ] as const)('%s: a script %s', async ([mode], { expect }) => {
    const run = await runScript(mode);
    expect(run.code, run.output).toBe(0);
    expect(run.exitDelayMs, run.output).toBeDefined();
    expect(run.exitDelayMs!).toBeLessThan(2000);
  });
});
