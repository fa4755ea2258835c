import { ValidationError } from '@vigil/core';

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF); throws `invalid_csv`. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') {
      if (field !== '') throw new ValidationError(`stray quote in CSV row ${rows.length + 1}`, 'invalid_csv');
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((cell) => cell !== '')) rows.push(row);
      row = [];
    } else field += c;
  }
  if (quoted) throw new ValidationError('unterminated quote in CSV', 'invalid_csv');
  row.push(field);
  if (row.some((cell) => cell !== '')) rows.push(row);
  return rows;
}
