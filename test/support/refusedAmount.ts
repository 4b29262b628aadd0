import { TestService } from './testService';

/**
 * Makes every event whose amount is 666.00 violate a constraint of its table: its projection then
 * fails for good at once, as an event the database refuses would. Returns what lifts it: the fix.
 */
export async function refuseAmount666(harness: TestService, table: 'withdrawals' | 'direct_debits'): Promise<() => Promise<void>> {
  const column = table === 'withdrawals' ? 'amount' : 'cash_amount';
  await harness.prisma.$executeRawUnsafe(`ALTER TABLE ${table} ADD CONSTRAINT refuse_666 CHECK (${column} <> 666.00) NOT VALID`);
  return async () => {
    await harness.prisma.$executeRawUnsafe(`ALTER TABLE ${table} DROP CONSTRAINT refuse_666`);
  };
}
