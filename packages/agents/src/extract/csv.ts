/** RFC 4180 rows: quoted cells may hold the delimiter, `""` and line breaks. */
export function parseDelimited(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        cell += ch;
      }
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (ch === delimiter) {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else {
      cell += ch;
    }
  }
  row.push(cell);
  rows.push(row);
  return rows;
}

/** One line per row, cells joined with ", "; empty rows dropped. */
export function delimitedToText(text: string, delimiter: string): string {
  return parseDelimited(text, delimiter)
    .map((cells) =>
      cells
        .map((c) => c.replace(/\s+/g, ' ').trim())
        .filter((c) => c !== '')
        .join(', '),
    )
    .filter((line) => line !== '')
    .join('\n');
}
