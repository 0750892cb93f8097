// Makes this page an engine host: the Service Worker forwards API compute here over a MessageChannel.
import { serveOverPort, type RunRequest } from '../lib/engine/remote';
import { isEngineOp } from '../lib/engine/ops';
import { UnknownOperationError } from '../lib/core/run';
import type { EngineBridge } from './engine';

export function becomeEngineHost(engine: EngineBridge): () => void {
  const sw = navigator.serviceWorker;
  if (!sw) return () => {};
  const announce = () => sw.controller?.postMessage({ type: 'timbre:engine-host' });
  const onMessage = (ev: MessageEvent) => {
    const req = ev.data as RunRequest | null;
    const port = ev.ports[0];
    if (req?.type !== 'timbre:engine-run' || !port) return;
    serveOverPort(port as never, req, (op, args, opts) => {
      if (!isEngineOp(op))
        return Promise.reject(new UnknownOperationError(`The engine has no operation "${op}".`));
      return engine.run(op, args as never, opts);
    });
  };
  sw.addEventListener('message', onMessage);
  sw.addEventListener('controllerchange', announce);
  announce();
  // The goodbye ends this page's jobs in the Service Worker at once (issue #22); a page restored from the
  // back/forward cache says hello again.
  const bye = () => sw.controller?.postMessage({ type: 'timbre:engine-host-gone' });
  const back = (e: PageTransitionEvent) => {
    if (e.persisted) announce();
  };
  addEventListener('pagehide', bye);
  addEventListener('pageshow', back);
  return () => {
    sw.removeEventListener('message', onMessage);
    sw.removeEventListener('controllerchange', announce);
    removeEventListener('pagehide', bye);
    removeEventListener('pageshow', back);
    bye();
  };
}
