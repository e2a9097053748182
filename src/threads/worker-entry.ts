/** The Worker side of the thread boundary: each message from the main thread goes to `handle`, which may answer. */
declare const self: Worker;

export type Post<Out> = (message: Out) => void;

export function serveWorker<In, Out>(handle: (message: In, post: Post<Out>) => void | Promise<void>): void {
  const post: Post<Out> = (message) => self.postMessage(message);
  self.onmessage = (event: MessageEvent<In>) => handle(event.data, post);
}
