import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

const en = {
  appName: 'Colloquy',
  skipToContent: 'Skip to content',
  nav: 'Main navigation',
  navChat: 'Chat',
  navFiles: 'Files',
  navAgents: 'Agents',
  navClients: 'Clients',
  navLive: 'Live video',
  signInTitle: 'Sign in',
  signInIntro: 'Sign in with your API key. A server without keys is open: name the user you act as, or leave it empty to see every user.',
  apiKey: 'API key',
  userName: 'User name',
  userNameHint: 'optional in open mode',
  signIn: 'Sign in',
  signOut: 'Sign out',
  signedInAs: 'Signed in as',
  allUsers: 'all users',
  role: { open: 'open mode', user: 'user', admin: 'admin', app: 'app' } as Record<string, string>,
  actAs: 'Act as user',
  actAsAll: '(every user)',
  apply: 'Apply',
  language: 'Language',
  theme: 'Theme',
  themeLight: 'Light',
  themeDark: 'Dark',
  themeSystem: 'System',
  conversations: 'Conversations',
  newConversation: 'New conversation',
  searchConversations: 'Search by name',
  managerFilter: 'Manager id',
  loadMore: 'Load more',
  noConversations: 'No conversations yet.',
  rename: 'Rename',
  renameTo: 'New name',
  save: 'Save',
  cancel: 'Cancel',
  delete: 'Delete',
  confirmDelete: (name: string) => `Delete “${name}” and all its messages?`,
  agent: 'Agent',
  askPlaceholder: 'Ask something about your documents… (Enter sends, Shift+Enter adds a line)',
  question: 'Question',
  send: 'Send',
  stop: 'Stop',
  retry: 'Retry',
  you: 'You',
  assistant: 'Assistant',
  status: { streaming: 'streaming', complete: 'complete', stopped: 'stopped', interrupted: 'interrupted', error: 'error' } as Record<string, string>,
  tokens: (p: number, c: number, t: number) => `${t} tokens (${p} in, ${c} out)`,
  sources: 'Sources',
  passage: 'Passage',
  openFile: 'Open file',
  attached: 'Attached to the next question',
  detach: 'Remove',
  emptyChat: 'Ask a question to start. Drop files here to attach them.',
  dropHere: 'Drop files here or choose them to upload',
  chooseFiles: 'Choose files',
  uploading: 'Uploading',
  files: 'Files',
  fileName: 'Name',
  fileSize: 'Size',
  fileType: 'Type',
  fileAdded: 'Added',
  attach: 'Attach',
  attachedShort: 'Attached',
  uploadByPath: 'Upload by server path',
  uploadByPathHint: 'Paths inside the server’s upload roots, one per line',
  upload: 'Upload',
  noFiles: 'No files yet.',
  agents: 'Agents',
  reachable: 'reachable',
  unreachable: 'unreachable',
  checking: 'checking…',
  isDefault: 'default',
  clients: 'Connected clients',
  clientCount: (n: number) => `${n} connected`,
  kind: 'Kind',
  name: 'Name',
  user: 'User',
  ip: 'IP',
  connectedFor: 'Connected for',
  openStreams: 'Open streams',
  publishing: 'Publishing',
  yes: 'yes',
  no: 'no',
  thisTab: '(this tab)',
  watch: 'Watch',
  liveVideo: 'Live video',
  publishers: 'Publishers',
  noPublishers: 'Nobody is publishing.',
  publishCamera: 'Publish my camera',
  publishPattern: 'Publish a test pattern',
  stopPublishing: 'Stop publishing',
  fps: 'fps',
  latency: 'latency',
  frames: 'frames',
  framesPerSecond: 'Frames per second',
  watching: 'Watching',
  connecting: 'connecting…',
  live: 'live',
  waitingForFrames: 'waiting for frames',
  ended: 'ended',
  notFound: 'Not found',
  error: 'Error',
  loading: 'Loading…',
};

export type Strings = typeof en;

const zhCN: Strings = {
  appName: 'Colloquy',
  skipToContent: '跳到正文',
  nav: '主导航',
  navChat: '对话',
  navFiles: '文件',
  navAgents: '智能体',
  navClients: '客户端',
  navLive: '实时视频',
  signInTitle: '登录',
  signInIntro: '使用 API 密钥登录。未配置密钥的服务器为开放模式：填写要使用的用户名，留空则查看所有用户。',
  apiKey: 'API 密钥',
  userName: '用户名',
  userNameHint: '开放模式下可不填',
  signIn: '登录',
  signOut: '退出登录',
  signedInAs: '当前身份',
  allUsers: '所有用户',
  role: { open: '开放模式', user: '用户', admin: '管理员', app: '应用' },
  actAs: '切换用户',
  actAsAll: '（所有用户）',
  apply: '应用',
  language: '语言',
  theme: '主题',
  themeLight: '浅色',
  themeDark: '深色',
  themeSystem: '跟随系统',
  conversations: '对话列表',
  newConversation: '新建对话',
  searchConversations: '按名称搜索',
  managerFilter: '管理者 ID',
  loadMore: '加载更多',
  noConversations: '还没有对话。',
  rename: '重命名',
  renameTo: '新名称',
  save: '保存',
  cancel: '取消',
  delete: '删除',
  confirmDelete: (name: string) => `删除“${name}”及其全部消息？`,
  agent: '智能体',
  askPlaceholder: '针对你的文档提问…（Enter 发送，Shift+Enter 换行）',
  question: '问题',
  send: '发送',
  stop: '停止',
  retry: '重试',
  you: '你',
  assistant: '助手',
  status: { streaming: '生成中', complete: '已完成', stopped: '已停止', interrupted: '已中断', error: '出错' },
  tokens: (p: number, c: number, t: number) => `${t} 个 token（输入 ${p}，输出 ${c}）`,
  sources: '引用来源',
  passage: '段落',
  openFile: '打开文件',
  attached: '将附加到下一个问题',
  detach: '移除',
  emptyChat: '提出问题即可开始。把文件拖到这里即可附加。',
  dropHere: '把文件拖到这里，或选择文件上传',
  chooseFiles: '选择文件',
  uploading: '上传中',
  files: '文件',
  fileName: '名称',
  fileSize: '大小',
  fileType: '类型',
  fileAdded: '添加时间',
  attach: '附加',
  attachedShort: '已附加',
  uploadByPath: '按服务器路径上传',
  uploadByPathHint: '服务器上传目录中的路径，每行一个',
  upload: '上传',
  noFiles: '还没有文件。',
  agents: '智能体',
  reachable: '可访问',
  unreachable: '不可访问',
  checking: '检查中…',
  isDefault: '默认',
  clients: '已连接的客户端',
  clientCount: (n: number) => `已连接 ${n} 个`,
  kind: '类型',
  name: '名称',
  user: '用户',
  ip: 'IP',
  connectedFor: '连接时长',
  openStreams: '打开的流',
  publishing: '正在推流',
  yes: '是',
  no: '否',
  thisTab: '（本页面）',
  watch: '观看',
  liveVideo: '实时视频',
  publishers: '推流者',
  noPublishers: '目前没有人在推流。',
  publishCamera: '推送我的摄像头',
  publishPattern: '推送测试图案',
  stopPublishing: '停止推流',
  fps: '帧率',
  latency: '延迟',
  frames: '帧数',
  framesPerSecond: '每秒帧数',
  watching: '正在观看',
  connecting: '连接中…',
  live: '直播中',
  waitingForFrames: '等待画面',
  ended: '已结束',
  notFound: '未找到',
  error: '错误',
  loading: '加载中…',
};

export type Locale = 'en' | 'zh-CN';
const STRINGS: Record<Locale, Strings> = { en, 'zh-CN': zhCN };
const STORAGE_KEY = 'colloquy.locale';

/** The browser's preferred language, when it is one the app speaks. */
export function browserLocale(languages: readonly string[] = navigator.languages): Locale {
  for (const l of languages) {
    if (/^zh\b/i.test(l)) return 'zh-CN';
    if (/^en\b/i.test(l)) return 'en';
  }
  return 'en';
}

interface I18n {
  t: Strings;
  locale: Locale;
  setLocale(locale: Locale): void;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => {
    const saved = localStorage.getItem(STORAGE_KEY);
    return saved === 'en' || saved === 'zh-CN' ? saved : browserLocale();
  });
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const value = useMemo<I18n>(
    () => ({
      t: STRINGS[locale],
      locale,
      setLocale: (l) => {
        localStorage.setItem(STORAGE_KEY, l);
        setLocaleState(l);
      },
    }),
    [locale],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
