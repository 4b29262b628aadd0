import { ChangeCursors } from '../../src/changes/ChangeCursors';
import { InvalidCursorError } from '../../src/changes/errors';
import { withUnusedBitFlipped } from '../support/cursors';

describe('ChangeCursors', () => {
  const cursors = new ChangeCursors('read-api-token-for-the-cursors');
  const position = { transaction: '4711', id: '42' };

  it('decodes what it encoded', () => {
    expect(cursors.decode(cursors.encode(position))).toEqual(position);
  });

  it('refuses a cursor signed with another token, and an altered position', () => {
    expect(() => new ChangeCursors('another-token-entirely').decode(cursors.encode(position))).toThrow(InvalidCursorError);
    expect(() => cursors.decode(cursors.encode(position).replace('4711.', '4712.'))).toThrow(InvalidCursorError);
  });

  it('refuses a cursor whose MAC differs only in the unused low bits of its last character', () => {
    const cursor = cursors.encode(position);
    const altered = withUnusedBitFlipped(cursor);

    // The same 16 bytes decode from both: only the encoding differs.
    expect(Buffer.from(altered.split('.')[2], 'base64url')).toEqual(Buffer.from(cursor.split('.')[2], 'base64url'));
    expect(altered).not.toBe(cursor);
    expect(() => cursors.decode(altered)).toThrow(InvalidCursorError);
  });
});
