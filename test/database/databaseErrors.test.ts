import { isPermanentDatabaseError } from '../../src/database/databaseErrors';
import { prismaDatabaseError } from '../support/builders';

describe('isPermanentDatabaseError', () => {
  it.each([
    ['invalid text representation', '22P02'],
    ['numeric value out of range', '22003'],
    ['unique violation', '23505'],
    ['not-null violation', '23502'],
    ['check violation', '23514'],
  ])('treats %s (%s), reported through Prisma, as permanent', (_description, sqlState) => {
    expect(isPermanentDatabaseError(prismaDatabaseError(sqlState))).toBe(true);
  });

  it.each([
    ['serialization failure', '40001'],
    ['deadlock', '40P01'],
    ['connection failure', '08006'],
    ['too many connections', '53300'],
    ['admin shutdown', '57P01'],
  ])('treats %s (%s) as transient', (_description, sqlState) => {
    expect(isPermanentDatabaseError(prismaDatabaseError(sqlState))).toBe(false);
  });

  it('reads the SQLSTATE from a plain driver error code as well', () => {
    expect(isPermanentDatabaseError(Object.assign(new Error('x'), { code: '23505' }))).toBe(true);
    expect(isPermanentDatabaseError(Object.assign(new Error('x'), { code: '57P01' }))).toBe(false);
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['a Node system error code', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })],
    ['a Prisma client error code', Object.assign(new Error('P2002'), { code: 'P2002' })],
    ['a numeric code', { code: 22003 }],
    ['a lower-case code', { code: '22p02' }],
    ['null', null],
    ['undefined', undefined],
    ['a string', '22P02'],
  ])('treats %s as transient', (_description, error) => {
    expect(isPermanentDatabaseError(error)).toBe(false);
  });
});
