import { extname } from 'node:path';
import { convert as htmlToText } from 'html-to-text';

export type IngestionErrorCode = 'unsupported_file' | 'invalid_file' | 'server_error';

/** Why a file could not be indexed; the code is what a vector store file's `last_error` reports. */
export class IngestionError extends Error {
  constructor(
    readonly code: IngestionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IngestionError';
  }
}

/** Extensions whose content is read as UTF-8 text as it is: prose, data and source code. */
const PLAIN_TEXT = new Set([
  'txt', 'md', 'csv', 'tex',
  'c', 'h', 'cpp', 'hpp', 'cs', 'css', 'go', 'java', 'js', 'jsx', 'mjs', 'ts', 'tsx', 'php', 'py', 'rb', 'rs', 'sh',
]);

function decodeUtf8(filename: string, bytes: Buffer): string {
  try {
    // fatal: a binary file renamed .txt is rejected rather than indexed as replacement characters.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new IngestionError('invalid_file', `${filename} is not valid UTF-8 text`);
  }
}

// The PDF and Word parsers load on first use: they are large, and most servers never see such a file.
async function extractPdf(filename: string, bytes: Buffer): Promise<string> {
  const { getDocument, VerbosityLevel } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  // pdf.js takes ownership of (detaches) the array it is given, so it gets a copy.
  const task = getDocument({ data: new Uint8Array(bytes), disableFontFace: true, verbosity: VerbosityLevel.ERRORS });
  try {
    const pdf = await task.promise;
    const pages: string[] = [];
    for (let number = 1; number <= pdf.numPages; number++) {
      const content = await (await pdf.getPage(number)).getTextContent();
      pages.push(content.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join(''));
    }
    return pages.join('\n\n');
  } catch (error) {
    throw new IngestionError('invalid_file', `${filename} could not be read as a PDF: ${(error as Error).message}`);
  } finally {
    await task.destroy();
  }
}

async function extractDocx(filename: string, bytes: Buffer): Promise<string> {
  const { default: mammoth } = await import('mammoth');
  try {
    return (await mammoth.extractRawText({ buffer: bytes })).value;
  } catch (error) {
    throw new IngestionError('invalid_file', `${filename} could not be read as a Word document: ${(error as Error).message}`);
  }
}

function extractJson(filename: string, bytes: Buffer): string {
  const text = decodeUtf8(filename, bytes);
  try {
    JSON.parse(text);
  } catch (error) {
    throw new IngestionError('invalid_file', `${filename} is not valid JSON: ${(error as Error).message}`);
  }
  return text;
}

/** The searchable text of a file, chosen by its extension. */
export async function extractText(filename: string, bytes: Buffer): Promise<string> {
  const extension = extname(filename).slice(1).toLowerCase();
  if (PLAIN_TEXT.has(extension)) return decodeUtf8(filename, bytes);
  switch (extension) {
    case 'json':
      return extractJson(filename, bytes);
    case 'html':
    case 'htm':
      return htmlToText(decodeUtf8(filename, bytes), { wordwrap: false, selectors: [{ selector: 'a', options: { ignoreHref: true } }, { selector: 'img', format: 'skip' }] });
    case 'pdf':
      return extractPdf(filename, bytes);
    case 'docx':
      return extractDocx(filename, bytes);
    default:
      throw new IngestionError('unsupported_file', `${filename}: files of type ${extension ? `.${extension}` : 'without an extension'} cannot be searched`);
  }
}
