/** The reference app's in-memory notes store (each server process has its own). */
import { EventEmitter, on } from 'node:events';

export interface Note {
  id: string;
  text: string;
  authorId: string;
}

export class NotesStore {
  private readonly notes = new Map<string, Note>();
  private readonly events = new EventEmitter();
  private next = 1;

  constructor() {
    this.events.setMaxListeners(0);
  }

  create(text: string, authorId: string): Note {
    const note = { id: `note_${this.next++}`, text, authorId };
    this.notes.set(note.id, note);
    this.events.emit('added', note);
    return note;
  }

  listBy(authorId: string): Note[] {
    return [...this.notes.values()].filter((note) => note.authorId === authorId);
  }

  get(id: string): Note | undefined {
    return this.notes.get(id);
  }

  count(): number {
    return this.notes.size;
  }

  /** Notes created from now on by `authorId`, until `signal` aborts. */
  async *added(authorId: string, signal?: AbortSignal): AsyncGenerator<Note> {
    for await (const [note] of on(this.events, 'added', signal ? { signal } : {}) as AsyncIterable<[Note]>) {
      if (note.authorId === authorId) yield note;
    }
  }
}
