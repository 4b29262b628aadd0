import request from 'supertest';
import { startTestService, TestService } from '../support/testService';

const ADMIN_TOKEN = 'admin-token-for-this-test';
const READ_API_TOKEN = 'read-token-for-this-test';

describe('admin and read API in the running service', () => {
  let service: TestService | undefined;

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it('serves /admin and /v1 behind their own tokens when the tokens are set', async () => {
    service = await startTestService({ ADMIN_TOKEN, READ_API_TOKEN });
    const app = request(service.baseUrl);

    expect((await app.get('/admin/jobs/failed').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status).toBe(200);
    expect((await app.get('/admin/queues').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status).toBe(200);
    expect((await app.get('/admin/jobs/failed').set('Authorization', `Bearer ${READ_API_TOKEN}`)).status).toBe(401);
    expect((await app.get('/v1/withdrawals').set('Authorization', `Bearer ${READ_API_TOKEN}`)).body.meta).toMatchObject({ count: 0, total_count: 0 });
    expect((await app.get('/v1/withdrawals').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status).toBe(401);
    expect((await app.get('/readyz')).status).toBe(200);
  });

  it('has neither without tokens', async () => {
    service = await startTestService();
    const app = request(service.baseUrl);

    expect((await app.get('/admin/jobs/failed').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status).toBe(404);
    expect((await app.get('/v1/withdrawals').set('Authorization', `Bearer ${READ_API_TOKEN}`)).status).toBe(404);
  });
});
