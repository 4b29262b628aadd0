import { databaseFailureCause, isPermanentDatabaseError } from '../../src/database/databaseErrors';
import { Database, openDatabase } from '../../src/database/Database';
import { freePort } from '../../testkit/freePort';

const SERVER_URL = process.env.TEST_DATABASE_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432';

/** What the promise rejected with. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('databaseFailureCause, of errors Prisma and pg really raise', () => {
  let database: Database;

  beforeAll(() => {
    database = openDatabase(`${SERVER_URL}/postgres`, 2);
  });

  afterAll(async () => {
    await database.close();
  });

  it("gives the server's message and SQLSTATE of a violated check constraint, not Prisma's invocation text or the row", async () => {
    const error = await rejectionOf(
      database.prisma.$transaction(async (tx) => {
        await tx.$executeRaw`CREATE TEMP TABLE refusing (amount numeric CONSTRAINT refuse_666 CHECK (amount <> 666.00)) ON COMMIT DROP`;
        await tx.$executeRaw`INSERT INTO refusing VALUES (666.00)`;
      }),
    );

    expect((error as Error).message).toContain('invocation');
    expect(databaseFailureCause(error)).toBe('new row for relation "refusing" violates check constraint "refuse_666" (SQLSTATE 23514)');
    expect(isPermanentDatabaseError(error)).toBe(true);
  });

  it('gives the message and SQLSTATE of bad data in a query', async () => {
    const error = await rejectionOf(database.prisma.$queryRaw`SELECT CAST('many' AS integer)`);

    expect(databaseFailureCause(error)).toBe('invalid input syntax for type integer: "many" (SQLSTATE 22P02)');
  });

  it('gives the connection error when Prisma cannot reach the server', async () => {
    const port = await freePort();
    const unreachable = openDatabase(`postgresql://postgres@127.0.0.1:${port}/postgres`, 1);
    try {
      const error = await rejectionOf(unreachable.prisma.$queryRaw`SELECT 1`);

      expect((error as Error).message).toContain('invocation');
      expect(databaseFailureCause(error)).toBe(`Can't reach database server at 127.0.0.1:${port}`);
    } finally {
      await unreachable.close();
    }
  });

  it("gives pg's own message", async () => {
    const port = await freePort();
    const unreachable = openDatabase(`postgresql://postgres@127.0.0.1:${port}/postgres`, 1);
    try {
      expect(databaseFailureCause(await rejectionOf(unreachable.pool.query('SELECT 1')))).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    } finally {
      await unreachable.close();
    }
    expect(databaseFailureCause(await rejectionOf(database.pool.query('SELECT 1/0')))).toBe('division by zero');
  });
});

describe('databaseFailureCause, of other errors', () => {
  it('joins the errors of a connection refused on every address of a host, which has no message of its own', () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}:5432`), { code: 'ECONNREFUSED', syscall: 'connect' });
    const error = new AggregateError([refused('::1'), refused('127.0.0.1')]);

    expect(databaseFailureCause(error)).toBe('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('keeps any other error on one line', () => {
    expect(databaseFailureCause(new Error('first\nsecond'))).toBe('first second');
    expect(databaseFailureCause('not an error')).toBe('not an error');
  });
});
