import { ChangeCursors, isAfter } from '../../src/changes/ChangeCursors';
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

describe('isAfter', () => {
  it('orders positions by transaction, then id, as numbers beyond 2^53', () => {
    expect(isAfter({ transaction: '18446744073709551615', id: '0' }, { transaction: '18446744073709551614', id: '9' })).toBe(true);
    expect(isAfter({ transaction: '10', id: '2' }, { transaction: '10', id: '1' })).toBe(true);
    expect(isAfter({ transaction: '10', id: '1' }, { transaction: '10', id: '1' })).toBe(false);
    expect(isAfter({ transaction: '9', id: '99' }, { transaction: '10', id: '0' })).toBe(false);
  });
});
