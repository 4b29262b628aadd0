import { OPENAPI_DOCUMENT } from '../../src/readApi/openApiDocument';
import { PAYMENT_RESOURCES } from '../../src/changes/paymentResources';

describe('the OpenAPI document', () => {
  const document = JSON.parse(JSON.stringify(OPENAPI_DOCUMENT));

  it('is OpenAPI 3.1 and lists every endpoint', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(
      ['/v1/changes', '/v1/direct-debits', '/v1/direct-debits/{id}', '/v1/openapi.json', '/v1/withdrawals', '/v1/withdrawals/{id}'],
    );
  });

  it('secures the data with the bearer scheme, but not itself', () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/v1/openapi.json'].get.security).toEqual([]);
  });

  it('resolves every $ref', () => {
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const target = JSON.parse(`{${ref}}`).$ref.slice(2).split('/').reduce((node: Record<string, unknown> | undefined, key: string) => node?.[key] as Record<string, unknown>, document);
      expect({ ref, resolved: target !== undefined }).toEqual({ ref, resolved: true });
    }
  });

  it('answers problem+json for every error and requires every property of the payments', () => {
    for (const resource of PAYMENT_RESOURCES) {
      const schema = document.components.schemas[resource.schemaName];
      expect(schema.required).toEqual(resource.fields.map(({ name }) => name));
      expect(document.components.schemas[`${resource.schemaName}WithHistory`].required).toContain('history');
      for (const path of [`/v1/${resource.path}`, `/v1/${resource.path}/{id}`]) {
        const { responses } = document.paths[path].get;
        for (const [status, response] of Object.entries<Record<string, string>>(responses)) {
          if (status !== '200') expect(JSON.stringify(response)).toMatch(/application\/problem\+json|#\/components\/responses\//);
        }
      }
    }
  });
});
