/**
 * What the manager and the chains say while streaming, told to the user (through the renderer), and
 * the one error line a failed run ends with. A refused token is explained once per key, with where
 * that token came from, rather than once per socket in the library's words.
 */
import type { StatusEvent } from '../../connection/types.js';
import { authFailureHint, isAuthFailure } from '../auth-hint.js';
import { tokenSourceOf } from '../credentials.js';
import { describeRecenter } from '../stream-instruments.js';
import type { StreamContext } from './context.js';
import type { StreamManager } from './manager.js';
import type { Renderer } from './render.js';

export interface Reporter {
  /** Tells the manager's and the chains' events through `renderer` from now on. */
  watch(manager: StreamManager, renderer: Renderer): void;
  /** Says why the run failed (after the view, if any, gave the terminal back). */
  failure(error: unknown): void;
}

export function createReporter(ctx: StreamContext): Reporter {
  const { config } = ctx;
  /** Key ids whose refused token was already explained (once per key, not once per socket). */
  const authReported = new Set<string>();
  const tokenSource = (id: string): string => tokenSourceOf(id, config.credentials, ctx.io.env);
  // With a watched keys file a refusal is not the end of the run (a service, or once streaming: a
  // refusal at an interactive start still ends it): say so, and once per refusal.
  const keysFile = config.credentials.source === 'keys-file';
  let shownBy: Renderer | undefined;
  return {
    watch(manager, renderer) {
      shownBy = renderer;
      const watched = (): boolean => keysFile && (config.service || manager.session.progress === undefined);
      watchEvents(ctx, manager, renderer, authReported, tokenSource, watched);
    },
    failure(error) {
      shownBy?.stop();
      if (!isAuthFailure(error)) {
        ctx.say(`kiteticker: error: ${(error as Error).message}`);
        return;
      }
      const keys = ctx.keys;
      ctx.say(
        `kiteticker: error: ${
          authReported.size > 0
            ? 'stopping: Kite refused the access token (see above)'
            : authFailureHint(
                keys.length === 1 ? keys[0]!.id : undefined,
                (error as { status?: number }).status,
                keys.length === 1 ? tokenSource(keys[0]!.id) : 'KITE_ACCESS_TOKEN (or --keys-file)',
              )
        }`,
      );
    },
  };
}

function watchEvents(
  ctx: StreamContext,
  { session, chains }: StreamManager,
  renderer: Renderer,
  authReported: Set<string>,
  tokenSource: (id: string) => string,
  watched: () => boolean,
): void {
  const { config } = ctx;
  const report = renderer.report;
  const manager = session.manager;
  manager.on('status', (event: StatusEvent, apiKeyId: string, connectionIndex: number) => {
    if (event.status === 'auth_failed') {
      // The 'error' event already says so on stderr; the view has no stderr, so it gets a notice.
      if (renderer.live && !authReported.has(apiKeyId)) {
        authReported.add(apiKeyId);
        report(authFailureHint(apiKeyId, event.httpStatus, tokenSource(apiKeyId), watched()));
      }
    } else if (
      event.status === 'connected' &&
      config.credentials.source === 'keys-file' &&
      authReported.delete(apiKeyId)
    ) {
      // Back with a new token: the next morning's refusal is explained again.
      report(`${apiKeyId}: connected again with the new access token`);
    } else if (event.status === 'reconnecting' && config.verbose) {
      report(`${apiKeyId} #${connectionIndex}: reconnecting (attempt ${event.attempt}): ${event.reason}`);
    }
  });
  manager.on('serverError', (message: string, apiKeyId: string) =>
    report(`${apiKeyId}: server error: ${message}`),
  );
  manager.on('error', (error: Error, apiKeyId: string | undefined) => {
    if (!isAuthFailure(error)) report(`${apiKeyId ?? 'manager'}: ${error.message}`);
    else if (!authReported.has(apiKeyId ?? '')) {
      // The library's text tells a programmer to call updateAccessToken(); a CLI user needs a new token.
      authReported.add(apiKeyId ?? '');
      report(
        authFailureHint(
          apiKeyId,
          (error as { status?: number }).status,
          tokenSource(apiKeyId ?? ''),
          watched(),
        ),
      );
    }
  });
  for (const c of chains) {
    c.on('error', (error) => report(`chain ${c.underlying}: re-centre failed: ${error.message}`));
    c.on('recenter', (e) => {
      report(describeRecenter(e));
      renderer.followRecenter(e);
    });
  }
}
