import { SluiceError, messageOf } from './errors.js';

/**
 * The error an operator raises when the user function it runs throws. The batch runner adds the
 * batch id and time when it fails the batch.
 *
 * Wrap only calls into user code with it. A {@link SluiceError} the function threw (from a nested
 * context, a state store it used, a fused stage downstream) keeps its own code: it is returned as
 * it is, naming `operator` if it named no operator. `site` is where an unnamed operator was
 * defined in the user's code (see `definition` in `error-policy.ts`).
 */
export function userFunctionFailed(operator: string, cause: unknown, site?: string): SluiceError {
  if (cause instanceof SluiceError) return namingOperator(cause, operator, site);
  const where = site === undefined ? '' : ` (defined at ${site})`;
  return new SluiceError('USER_FUNCTION_FAILED', `Operator ${operator}${where} threw: ${messageOf(cause)}`, { operator, cause, ...(site === undefined ? {} : { site }) });
}

/**
 * What an operator's computation threw, naming the operator: a {@link SluiceError} that names no
 * operator yet gets `operator` filled in (the same error, so its class, stack and cause stay);
 * anything else is returned as it is.
 */
export function namingOperator<E>(error: E, operator: string, site?: string): E {
  if (error instanceof SluiceError && error.operator === undefined) {
    (error as { operator: string | undefined }).operator = operator;
    if (site !== undefined) (error as { site: string | undefined }).site = site;
  }
  return error;
}
