export { makeServerDirs, startServerProcess, type ServerProcess, type TempServerDirs } from './server-process.ts';
export { httpResponse, startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
