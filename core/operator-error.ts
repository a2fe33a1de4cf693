import { SluiceError, messageOf } from './errors.js';

/**
 * The error an operator raises when the user function it runs throws. The batch runner adds the
 * batch id and time when it fails the batch.
 */
export function userFunctionFailed(operator: string, cause: unknown): SluiceError {
  if (cause instanceof SluiceError && cause.code === 'USER_FUNCTION_FAILED') return cause;
  return new SluiceError('USER_FUNCTION_FAILED', `Operator ${operator} threw: ${messageOf(cause)}`, { operator, cause });
}
