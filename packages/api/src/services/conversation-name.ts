/** A conversation's name from a question: one line, at most 50 characters (an ellipsis beyond). */
export function nameFromQuery(query: string): string {
  const oneLine = query.replace(/\s+/g, ' ').trim();
  const chars = [...oneLine];
  return chars.length > 50 ? `${chars.slice(0, 50).join('')}…` : oneLine;
}
