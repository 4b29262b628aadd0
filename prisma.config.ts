import { defineConfig } from 'prisma/config';

// Only the Prisma CLI reads this file. The service itself connects through
// @prisma/adapter-pg and applies prisma/migrations with src/database/migrate.ts.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/upvest_webhooks',
  },
});
