import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import { ErrorBody } from '../http/schemas.js';
import type { ChannelHub, ChannelTransport } from './connections.js';
import { Command, isCommand, MAX_PAYLOAD_BYTES } from './frames.js';

/**
 * The push channel as a WebSocket, for web, desktop and home-automation clients: each
 * message is JSON `{cmd, payload}` with the socket's commands (0 heartbeat, 1 register,
 * 2 token, 3 event); payloads are JSON values (the token and events are objects, a
 * heartbeat a timestamp). A client authenticates by the same register step.
 */
export async function channelWebSocketRoutes(app: FastifyInstance, hub: ChannelHub): Promise<void> {
  await app.register(websocket, { options: { maxPayload: MAX_PAYLOAD_BYTES + 1024 } });
  app.route({
    method: 'GET',
    url: '/v1/channel',
    schema: {
      tags: ['push channel'],
      summary: 'The push channel as a WebSocket',
      description:
        'Upgrade to a WebSocket. Messages are JSON `{cmd, payload}`: the client sends `{cmd: 1, payload: {imei, imsi, type, brand, bundle_id}}` and receives `{cmd: 2, payload: {token}}`: register that token as a `push_token`. Notifications arrive as `{cmd: 3, payload: {id, channel, title, body, aps, data, …}}`; the server sends `{cmd: 0, payload: <ms>}` heartbeats and the client answers each message with one. See the README, "Push channel". A request that is not a WebSocket upgrade gets 426.',
      response: { 426: ErrorBody },
    },
    handler: async () => {
      throw new AppError('UPGRADE_REQUIRED');
    },
    wsHandler: (socket) => {
      const transport: ChannelTransport = {
        kind: 'websocket',
        write: (command: Command, payload: string) => {
          if (socket.readyState !== socket.OPEN) return false;
          // Heartbeats carry text, the other commands JSON: sent as a JSON value either way.
          const body = command === Command.heartbeat ? JSON.stringify(payload) : payload;
          socket.send(`{"cmd":${command},"payload":${body}}`);
          return true;
        },
        buffered: () => socket.bufferedAmount,
        close: () => socket.terminate(),
      };
      const connection = hub.open(transport);
      socket.on('message', (data, isBinary) => {
        const message = parseMessage(isBinary ? undefined : data.toString());
        if (message === undefined) {
          connection.close('bad_frame');
          return;
        }
        connection.receive(message.cmd, message.payload);
      });
      socket.on('error', () => connection.close('bad_frame'));
      socket.on('close', () => connection.close('peer'));
    },
  });
}

function parseMessage(text: string | undefined): { cmd: number; payload: unknown } | undefined {
  if (text === undefined || text.length > MAX_PAYLOAD_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { cmd, payload } = value as { cmd?: unknown; payload?: unknown };
  if (typeof cmd !== 'number' || !isCommand(cmd)) return undefined;
  return { cmd, payload };
}
