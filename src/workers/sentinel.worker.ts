/// <reference lib="webworker" />
// The engine worker's heartbeat answerer: it answers each ping on the port the engine worker gives it. On
// its own thread it answers while the engine is busy in a long synchronous step (a model run), and as a
// nested worker it ends with the engine worker, so its silence means the engine worker is gone.
self.onmessage = (e: MessageEvent) => {
  const port = e.ports[0];
  if (!port) return;
  port.onmessage = () => port.postMessage(0);
  // A first answer unasked: the page then knows the sentinel is up and holds it to the short limit.
  port.postMessage(0);
};
self.postMessage('up');
