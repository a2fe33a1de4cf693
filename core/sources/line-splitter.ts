import { StringDecoder } from 'node:string_decoder';
import { tooLongLine } from './line-format.js';

/** The characters of a line longer than `maxLineLength` that are kept (the bad record's `raw`). */
export const TOO_LONG_HEAD = 1024;

/**
 * Splits received bytes into lines: a line or a multibyte character may span chunks, a trailing
 * `'\r'` is dropped. A line longer than `maxLineLength` bytes (counted in the source's encoding,
 * without its newline) is emitted as a {@link tooLongLine} placeholder holding its first
 * {@link TOO_LONG_HEAD} characters; the rest of it is dropped as it arrives, so at most
 * `maxLineLength` bytes of an unfinished line are ever held.
 */
export class LineSplitter {
  readonly #decoder: StringDecoder;
  readonly #encoding: BufferEncoding;
  /**
   * Whether every `'\n'` of the decoded text is a 0x0A byte of the chunk and the other way round
   * (UTF-8, latin1): then the newlines of the bytes give the lines' sizes without measuring them.
   */
  readonly #bytewise: boolean;
  readonly #maxLineLength: number;
  /** The unfinished line (empty while a too-long line is being dropped). */
  #partial = '';
  /** Bytes of the unfinished line so far, dropped ones included. */
  #bytes = 0;
  /** The beginning of a too-long line while the rest of it is dropped. */
  #head: string | undefined;

  constructor(encoding: BufferEncoding, maxLineLength: number) {
    this.#decoder = new StringDecoder(encoding);
    this.#encoding = encoding;
    this.#bytewise = ['utf8', 'utf-8', 'latin1', 'binary'].includes(encoding.toLowerCase());
    this.#maxLineLength = maxLineLength;
  }

  /** Calls `emit` for every line that `chunk` completes, with its size in bytes. */
  write(chunk: Buffer, emit: (line: string, bytes: number) => void): void {
    const text = this.#decoder.write(chunk);
    let from = 0;
    let byteFrom = 0;
    let newline: number;
    while ((newline = text.indexOf('\n', from)) !== -1) {
      const piece = text.slice(from, newline);
      let bytes: number;
      if (this.#bytewise) {
        const byte = chunk.indexOf(10, byteFrom);
        bytes = byte - byteFrom;
        byteFrom = byte + 1;
      } else {
        bytes = Buffer.byteLength(piece, this.#encoding);
      }
      if (this.#bytes === 0 && bytes <= this.#maxLineLength) {
        // A whole line in this chunk (the common case): no unfinished line to join.
        emit(piece.endsWith('\r') ? piece.slice(0, -1) : piece, bytes);
      } else {
        this.#add(piece, bytes);
        this.#finish(emit);
      }
      from = newline + 1;
    }
    const rest = from === 0 ? text : text.slice(from);
    // Bytewise, the rest counts the bytes of a character the decoder holds until the next chunk.
    this.#add(rest, this.#bytewise ? chunk.length - byteFrom : Buffer.byteLength(rest, this.#encoding));
  }

  /** Emits the unfinished last line, if it is not empty. */
  end(emit: (line: string, bytes: number) => void): void {
    const rest = this.#decoder.end();
    this.#add(rest, this.#bytewise ? 0 : Buffer.byteLength(rest, this.#encoding));
    if (this.#head !== undefined || (this.#partial !== '' && this.#partial !== '\r')) this.#finish(emit);
    this.#partial = '';
    this.#bytes = 0;
  }

  #add(piece: string, bytes: number): void {
    this.#bytes += bytes;
    if (this.#head !== undefined || piece === '') return;
    if (this.#bytes <= this.#maxLineLength) {
      this.#partial = this.#partial === '' ? piece : this.#partial + piece;
      return;
    }
    const start = this.#partial.length >= TOO_LONG_HEAD ? this.#partial : this.#partial + piece.slice(0, TOO_LONG_HEAD);
    // A fresh copy, so the head does not keep the chunk it was cut from alive.
    this.#head = Buffer.from(start.slice(0, TOO_LONG_HEAD), 'utf8').toString('utf8');
    this.#partial = '';
  }

  #finish(emit: (line: string, bytes: number) => void): void {
    const head = this.#head;
    if (head === undefined) {
      const line = this.#partial;
      emit(line.endsWith('\r') ? line.slice(0, -1) : line, this.#bytes);
    } else {
      const placeholder = tooLongLine(head, this.#bytes, this.#maxLineLength);
      emit(placeholder, Buffer.byteLength(placeholder));
    }
    this.#partial = '';
    this.#bytes = 0;
    this.#head = undefined;
  }
}
