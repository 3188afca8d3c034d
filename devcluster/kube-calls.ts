import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** Request options that send a patch body as a JSON merge patch. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The HTTP status of a failed API call; 0 when it is not an API answer (a connection error). */
export function apiCode(error: unknown): number {
  return error instanceof ApiException ? error.code : 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
