// Control round trip with and without CURVE, in the same run: what authenticating the control socket costs the
// operator's cut. Prints a table and one JSON line last.
//
//   npm run bench:control [-- requests]
//
// The engine side is the real ControlServer (ZAP handler included) in a worker thread, so client and server do not
// share an event loop; both servers run at once, plain and CURVE, on loopback. Two client shapes, interleaved per
// round so drift hits both alike:
// - per_command: a new REQ socket per command, as the operator and `nexus ctl` send one (TCP connect, the CURVE
//   handshake with its ZAP round trip, the request, the answer). This is the cut latency an abort sees.
// - persistent: one REQ socket, many requests: the per-message cost of CURVE's encryption alone.
// Each request is `status` (a ~1 KiB JSON answer from the handler below, about the size of a real engine's).
// Baseline: the same path without CURVE. Key names: control_rtt_us.{per_command,persistent}.{plain,curve}
// {p50,p99}, and curve_over_plain_p50.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Request } from 'zeromq';
import { curveClientOptions, sendControl } from '../engine/control/control-client.ts';
import { ControlCounters } from '../engine/control/control-counters.ts';
import { clientKeysOf, generateControlKeys, serverKeysOf, type ControlClientKeys, type ControlServerKeys } from '../engine/control/control-keys.ts';
import { ControlServer } from '../engine/control/control-server.ts';
import { spawnWorker, workerExit } from '../engine/threads/spawn-worker.ts';
import { decodeControlResponse, encodeControlRequest } from '../engine/wire/control-codec.ts';
import { ControlCommand, ControlStatus } from '../engine/wire/layout.ts';
import { freePort } from '../cli/lib/processes.ts';

interface ServerRequest {
  readonly plainPort: number;
  readonly curvePort: number;
  readonly keys: ControlServerKeys;
}

if (isMainThread) await main();
else await serve(workerData as ServerRequest);

async function serve(request: ServerRequest): Promise<void> {
  const body = { ready: true, healthy: true, ordersEnabled: true, padding: 'x'.repeat(900) };
  const handler = {
    ordersOn: () => ({ status: ControlStatus.Ok, body: { ordersEnabled: true } }),
    ordersOff: () => ({ status: ControlStatus.Ok, body: { ordersEnabled: false } }),
    cut: () => ({ status: ControlStatus.Ok, body: { ordersEnabled: false, ordersLatched: true } }),
    unlatch: () => ({ status: ControlStatus.Ok, body: { ordersEnabled: false, ordersLatched: false } }),
    drain: async () => ({ status: ControlStatus.Ok, body: {} }),
    status: () => ({ status: ControlStatus.Ok, body }),
    setOwnership: async () => ({ status: ControlStatus.Ok, body: {} }),
  };
  const log = (): void => {};
  const servers = [
    new ControlServer({ bindAddress: `tcp://127.0.0.1:${request.plainPort}`, handler, counters: new ControlCounters(), log }),
    new ControlServer({ bindAddress: `tcp://127.0.0.1:${request.curvePort}`, handler, keys: request.keys, counters: new ControlCounters(), log }),
  ];
  for (const server of servers) await server.open();
  const loops = servers.map((server) => server.run());
  parentPort?.postMessage('ready');
  parentPort?.once('message', () => {
    for (const server of servers) server.close();
  });
  await Promise.all(loops);
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 2_000);
  const files = generateControlKeys();
  const serverKeys = serverKeysOf(files);
  const clientKeys = clientKeysOf(files);
  const plainPort = await freePort();
  const curvePort = await freePort();
  const worker = spawnWorker(new URL(import.meta.url), { plainPort, curvePort, keys: serverKeys } satisfies ServerRequest);
  const exited = workerExit(worker);
  await new Promise((resolve) => worker.once('message', resolve));

  const plain = `tcp://127.0.0.1:${plainPort}`;
  const curve = `tcp://127.0.0.1:${curvePort}`;
  const perCommand = async (address: string, keys?: ControlClientKeys): Promise<number> => {
    const started = process.hrtime.bigint();
    const answer = await sendControl(address, ControlCommand.Status, keys === undefined ? {} : { keys });
    if (answer.status !== ControlStatus.Ok) throw new Error('status refused');
    return Number(process.hrtime.bigint() - started) / 1_000;
  };
  const persistent = (address: string, keys?: ControlClientKeys): { once: () => Promise<number>; close: () => void } => {
    const socket = new Request({
      linger: 0, receiveTimeout: 5_000,
      ...(keys === undefined ? {} : curveClientOptions(keys)),
    });
    socket.connect(address);
    let id = 0;
    return {
      once: async () => {
        const started = process.hrtime.bigint();
        await socket.send(encodeControlRequest({ command: ControlCommand.Status, requestId: ++id, sentMonoNs: 0 }));
        const [reply] = await socket.receive();
        const decoded = decodeControlResponse(reply);
        if (!decoded.ok || decoded.value.requestId !== id) throw new Error('bad answer');
        return Number(process.hrtime.bigint() - started) / 1_000;
      },
      close: () => socket.close(),
    };
  };

  const samples: Record<string, number[]> = { 'per_command.plain': [], 'per_command.curve': [], 'persistent.plain': [], 'persistent.curve': [] };
  const plainConnection = persistent(plain);
  const curveConnection = persistent(curve, clientKeys);
  // Warm-up: the JIT, both connections' handshakes.
  for (let i = 0; i < 200; i++) {
    await perCommand(plain);
    await perCommand(curve, clientKeys);
    await plainConnection.once();
    await curveConnection.once();
  }
  const rounds = 10;
  const perRound = Math.max(1, Math.floor(requests / rounds));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < perRound; i++) samples['per_command.plain'].push(await perCommand(plain));
    for (let i = 0; i < perRound; i++) samples['per_command.curve'].push(await perCommand(curve, clientKeys));
    for (let i = 0; i < perRound; i++) samples['persistent.plain'].push(await plainConnection.once());
    for (let i = 0; i < perRound; i++) samples['persistent.curve'].push(await curveConnection.once());
  }
  plainConnection.close();
  curveConnection.close();
  worker.postMessage('stop');
  await exited;

  const result: Record<string, Record<string, { p50: number; p99: number }>> = { per_command: {}, persistent: {} };
  console.log(`control round trip, ${perRound * rounds} requests per case, µs (loopback, server in a worker thread)`);
  console.log('  case                    p50      p99');
  for (const [key, values] of Object.entries(samples)) {
    const [shape, security] = key.split('.') as [string, string];
    const figures = { p50: quantile(values, 0.5), p99: quantile(values, 0.99) };
    result[shape][security] = figures;
    console.log(`  ${key.padEnd(20)} ${figures.p50.toFixed(1).padStart(8)} ${figures.p99.toFixed(1).padStart(8)}`);
  }
  const ratio = (shape: string): number => round2(result[shape].curve.p50 / result[shape].plain.p50);
  console.log(`  CURVE / plain, p50: per command ${ratio('per_command')}x, persistent ${ratio('persistent')}x`);
  console.log(JSON.stringify({
    bench: 'control', node: process.version, requests_per_case: perRound * rounds,
    control_rtt_us: result,
    curve_over_plain_p50: { per_command: ratio('per_command'), persistent: ratio('persistent') },
  }));
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round2(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
