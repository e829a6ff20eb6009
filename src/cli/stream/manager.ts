/**
 * Step 4: the manager over the resolved keys (session.ts builds it; this step only wires it): the
 * simulator started when it stands in for Kite, the raw-frame tap when a sink asked for it, the
 * chains built (not started), and the feed the sinks attached to bound to it. Nothing connects
 * until the run step.
 */
import type { LiveChain } from '../../instruments/index.js';
import { redactUrl } from '../../redact.js';
import type { StreamSession } from '../session.js';
import { buildChains } from '../stream-instruments.js';
import type { StreamContext } from './context.js';
import type { StreamCredentials } from './credentials.js';
import type { ManagerFeed } from './feed.js';
import { streamSession } from './ha.js';
import type { StreamInstruments } from './instruments.js';
import type { TokenStore } from './keys-reload.js';

export interface StreamManager {
  session: StreamSession;
  feed: ManagerFeed;
  chains: LiveChain[];
  /** Where it connects, as shown and recorded: without the userinfo password (ws://user:pass@host). */
  shownUrl: string;
  /** "simulator ws://..." or the shown URL: the header's and the start line's endpoint. */
  endpoint: string;
}

export async function buildManager(
  ctx: StreamContext,
  credentials: StreamCredentials,
  instruments: StreamInstruments,
  feed: ManagerFeed,
  options: { rawFrames: boolean; tokens?: TokenStore | undefined },
): Promise<StreamManager> {
  const { config } = ctx;
  const sim = credentials.sim;
  if (sim) {
    await sim.simulator.start({ host: '127.0.0.1', port: 0 });
    ctx.disposers.push('simulator', () => sim.simulator.stop());
  }
  const url = sim ? sim.simulator.url : config.url;
  const shownUrl = redactUrl(url);
  // --ha: the same session face, but the keys open only while this instance holds their leases.
  const session = streamSession(ctx, {
    keys: credentials.keys,
    url,
    mode: config.mode,
    maxConnectionsPerApi: config.maxConnectionsPerApi,
    maxSymbolsPerConnection: config.maxSymbolsPerConnection,
    logger: ctx.logger,
    ...(options.tokens ? { tokenProvider: (id: string) => options.tokens!.provider(id) } : {}),
    ...(config.service ? { waitForKeys: true } : {}),
    ...(options.rawFrames ? { onRawFrame: feed.tapRawFrame } : {}),
  });
  const chains = buildChains(instruments.plan, session.manager, {
    follow: config.chain.follow,
    recenterStrikes: config.chain.recenterStrikes,
    mode: config.mode,
    fixed: new Set(instruments.tokens),
  });
  feed.bind(session.manager, () => session.snapshot());
  return {
    session,
    feed,
    chains,
    shownUrl,
    endpoint: sim ? `simulator ${shownUrl}` : shownUrl,
  };
}
