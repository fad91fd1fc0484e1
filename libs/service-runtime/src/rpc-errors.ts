import { Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';

/**
 * Hands a message handler's error to its transport as it was thrown; HTTP errors keep
 * Nest's default answer. Nest's default for message handlers turns every error into
 * `{ status: 'error', message: 'Internal server error' }`, and kafkajs then could not see
 * that a batch failed because the group was rebalancing (REBALANCE_IN_PROGRESS,
 * UNKNOWN_MEMBER_ID): it retried the batch as a member that had to rejoin first,
 * reloading the partition each time, until the consumer crashed.
 */
@Catch()
export class RethrowRpcErrors extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') return throwError(() => exception);
    super.catch(exception, host);
  }
}
