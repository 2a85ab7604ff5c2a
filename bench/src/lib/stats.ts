/** Percentiles and summaries of latency samples (milliseconds). */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  return percentile(
    [...finite].sort((a, b) => a - b),
    50,
  );
}

/** Several runs of the same measurement: the median of each run's p50 and of each run's p99. */
export interface RunsSummary {
  runs: number;
  perRun: number;
  p50: number;
  p99: number;
  /** Smallest and largest per-run p50: how noisy the runs were. */
  p50Min: number;
  p50Max: number;
}

export function summarizeRuns(runs: readonly Summary[]): RunsSummary {
  const p50s = runs.map((r) => r.p50);
  return {
    runs: runs.length,
    perRun: runs[0]?.n ?? 0,
    p50: median(p50s),
    p99: median(runs.map((r) => r.p99)),
    p50Min: Math.min(...p50s),
    p50Max: Math.max(...p50s),
  };
}

export const fmtMs = (v: number | undefined, digits = 3): string =>
  v === undefined || !Number.isFinite(v) ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(digits);

export const fmtRatio = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)}×`);

export const fmtInt = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US');

export const fmtBytes = (v: number | undefined): string => {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const abs = Math.abs(v);
  if (abs >= 1024 * 1024) return `${(v / 1024 / 1024).toFixed(1)} MB`;
  if (abs >= 1024) return `${(v / 1024).toFixed(1)} KB`;
  return `${Math.round(v)} B`;
};
