/**
 * Preloaded with `node --import` into a child process under test: refuses every TCP connection
 * to a host other than loopback (before any DNS lookup), reports it on stderr, and makes the
 * process exit with code 97. Covers `fetch` (undici), `http.request` and raw sockets alike, since
 * all of them connect through `net.Socket.prototype.connect`.
 */
import net from 'node:net';

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\]|::ffff:127\.\d+\.\d+\.\d+)$/i;
const refused = [];
const connect = net.Socket.prototype.connect;

function targetHost(args) {
  let options = args[0];
  if (Array.isArray(options)) options = options[0];
  if (options !== null && typeof options === 'object') return options.path !== undefined ? null : (options.host ?? 'localhost');
  if (typeof options === 'string' && Number.isNaN(Number(options))) return null; // an IPC path
  return typeof args[1] === 'string' ? args[1] : 'localhost';
}

net.Socket.prototype.connect = function guardedConnect(...args) {
  const host = targetHost(args);
  if (host !== null && !LOOPBACK.test(host)) {
    refused.push(host);
    process.stderr.write(`no-network: refused a connection to ${host}\n`);
    process.nextTick(() => this.destroy(new Error(`no-network: ${host} is not loopback`)));
    return this;
  }
  return connect.apply(this, args);
};

process.on('exit', () => {
  if (refused.length > 0) process.exitCode = 97;
});
