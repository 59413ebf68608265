import { MemcompareError } from '../errors.js';
import { listeningInodes, portOwner } from '../proc/sockets.js';

/** The one error for a port someone else holds. */
export function portTaken(port: number, pid: number | undefined, how = ''): MemcompareError {
  return new MemcompareError(
    'PORT_TAKEN',
    `port ${port}: already in use${pid === undefined ? '' : ` by pid ${pid}`}${how ? `, ${how}` : ''}; stop that process or let memcompare pick a free port ({port})`,
  );
}

/** Refuses a port that anything listens on, before a server is launched on it. */
export function assertPortFree(port: number): void {
  if (listeningInodes(port).size > 0) throw portTaken(port, portOwner(port));
}
