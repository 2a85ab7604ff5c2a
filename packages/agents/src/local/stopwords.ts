// Words that match almost every passage; without them an unrelated question ("what is the
// weather?") would still "find" passages through "what", "is", "the".
const ENGLISH = `a an and are as at be been but by can could did do does for from had has have how
i if in into is it its me my no not of on or our please should so than that the their them then
there these they this those to was we were what when where which who whom why will with would
you your about tell give show find any some all also just more most`;

const CHINESE = `的 了 是 在 和 与 及 或 吗 呢 吧 啊 呀 么 什么 怎么 怎样 如何 哪 哪些 哪个 为什么 请 请问
我 你 您 他 她 它 我们 你们 他们 这 那 这个 那个 这些 那些 有 也 都 就 还 又 一个 关于 告诉 一下 给 把 被
可以 能 会 要 吗 嗎 是否 多少 几 之`;

export const STOPWORDS: ReadonlySet<string> = new Set(
  `${ENGLISH} ${CHINESE}`.split(/\s+/).filter((w) => w !== ''),
);
