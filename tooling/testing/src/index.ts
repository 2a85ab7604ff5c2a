export { CHROMIUM_ARGS, CHROMIUM_FAKE_MEDIA_ARGS, CHROMIUM_PATH, chromiumAvailable } from './chromium.ts';
export { makeServerDirs, startServerProcess, type ServerProcess, type TempServerDirs } from './server-process.ts';
export { httpResponse, startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
export {
  difyAnswer,
  DIFY_KEY,
  startFakeDify,
  type DifyAnswerSpec,
  type FakeDify,
  type UploadRecord,
} from './fakes/fake-dify.ts';
export { OPENAI_KEY, OPENAI_MODEL, openaiAnswer, startFakeOpenAI, type FakeOpenAI, type OpenAIAnswerSpec } from './fakes/fake-openai.ts';
export { sendJson, startFakeServer, type FakeHandler, type FakeServer, type RecordedRequest } from './fakes/http-fake.ts';
export { nextScript, playScript, sseData, type StreamScript } from './fakes/stream-script.ts';
export { waitFor } from './fakes/wait.ts';
export {
  createPostgresSchema,
  dropPostgresSchema,
  dropRedisPrefix,
  freshPostgresSchema,
  freshRedisPrefix,
  inCi,
  noteSkipped,
  requiredInCi,
  postgresUrlWithSchema,
  serviceAvailable,
  testServices,
  type TestServices,
} from './services.ts';
