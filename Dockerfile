# No `# syntax=` line: nothing here needs a newer Dockerfile frontend than the one built into BuildKit and the legacy
# builder, and with the line BuildKit first pulls docker/dockerfile:1 (a floating tag) from Docker Hub, which fails
# where only the base image is reachable (a mirror, an air-gapped CI). Both builders build this file as it is.
# One image for every role. The role comes from the environment, the migration step from the command:
#   docker run -e ROLE=api    <image>                              (API, the default command)
#   docker run -e ROLE=worker <image>                              (projection worker)
#   docker run                <image> node dist/tools/migrate.js   (apply migrations, then exit)
#   docker run                <image> node dist/tools/cli.js webhooks list
#
# Both stages use the same pinned base. For fully reproducible builds also pin its digest:
#   FROM node:20.20.2-bookworm-slim@sha256:<digest>   (docker buildx imagetools inspect node:20.20.2-bookworm-slim)

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
# Dependencies' install scripts are skipped: the only ones here would download Prisma engines, which
# neither `prisma generate` (see the build script) nor the service (it uses @prisma/adapter-pg) needs.
# npm 11 skips them anyway; this keeps the npm 10 of the base image doing the same.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
# prisma generate (into src/generated/prisma) + tsc into dist/.
RUN npm run build

FROM node:20.20.2-bookworm-slim AS runtime
# tini as PID 1 forwards SIGTERM to node (graceful shutdown) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
# glibc gives each thread that allocates its own malloc arena (64 MB apart, touched pages kept): V8's
# compiler and GC threads and libuv's pool (signature checks). Two arenas cost no throughput here and
# keep 40-50 MB less resident (npm run bench sets the same).
ENV MALLOC_ARENA_MAX=2
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional as well: npm keeps the Prisma CLI (a devDependency, ~250 MB with its engines and
# TypeScript) because @prisma/client names it as an optional peer. The only other optional packages are
# msgpackr-extract (speeds up unpacking; BullMQ only packs) and pg-cloudflare (Cloudflare Workers only).
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
# The migration runner reads ../../prisma/migrations relative to dist/database/, i.e. /app/prisma/migrations.
COPY prisma/migrations ./prisma/migrations
COPY --from=build /app/dist ./dist
# Everything above stays owned by root: the service only reads its files. Numeric, so that Kubernetes'
# runAsNonRoot can verify it; 1000 is the base image's `node` user.
USER 1000:1000
EXPOSE 3000 9464
# No curl in the image: Node 20's fetch does the check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
