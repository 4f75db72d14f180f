/**
 * Schemas several API areas use, registered once for all of them by $id (`{ $ref: 'Authority#' }`);
 * they appear under that name in the OpenAPI document. Add shared shapes here.
 */
export const authoritySchema = {
  $id: 'Authority',
  type: 'object',
  description: 'An authority (myndighed): CVR, kommunekode for a municipality, name',
  properties: { cvr: { type: ['string', 'null'] }, kommunekode: { type: 'string' }, name: { type: 'string' } },
  required: ['cvr', 'name'],
} as const;

export const sharedSchemas = [authoritySchema];
