import type { Socket } from 'node:net';

/**
 * Everything a connection writes within one turn of the event loop leaves in one `writev` system
 * call, instead of one `write` per SSH packet. An upload answers each 32 KiB WRITE with a STATUS
 * packet and a download sends a DATA packet per READ: one system call each was a third of the
 * server's CPU on loopback (issue 11 profiles, bench/profiles/NOTES.md). The socket is corked at
 * the first write of a turn and uncorked once the turn's callbacks and promises have run
 * (setImmediate), so no reply waits longer than that turn.
 */
export function batchWrites(socket: Socket): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const write = socket.write;
  socket.write = function batched(this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}
