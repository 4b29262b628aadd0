import { serveFloor } from './floorServer';

/**
 * The bare floor: verifies the signature exactly as the service does, parses the JSON and answers
 * 200 (see floorServer.ts). No Postgres, no Redis: the least any receiver does.
 */
serveFloor(() => async (_bodyText, payload) => ({ verified: true, events: payload.length }));
