import type { ApiRequest, ApiResponse } from '../../shared/api';
import type { ApiChannel } from '../../shared/channels';
import type { LabCatalog } from '../services/labCatalog';

/** One function per channel, given a request that has already passed its schema. */
export type ApiHandlers = {
  [C in ApiChannel]: (request: ApiRequest<C>) => Promise<ApiResponse<C>>;
};

export interface ApiServices {
  catalog: LabCatalog;
}

export function createApiHandlers({ catalog }: ApiServices): ApiHandlers {
  return {
    'labs.list': () => catalog.list(),
    'labs.get': ({ id }) => catalog.get(id),
  };
}
