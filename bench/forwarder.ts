/**
 * The pass-through baseline for `bench:engine`: the engine's own edges (MarketDataSubscriber in, FrameSender on
 * PUSH out, same socket options, same yield budget, one frame out per frame in) with the pipeline replaced by
 * identity: no decode, no indicators, no strategy, no risk, no encode. What it measures is the floor zeromq.js and
 * this host set for one engine hop; the engine's latency divided by this is the cost of the pipeline itself.
 *
 * Usage: node --import tsx bench/forwarder.ts <market-data address> <topic> <orders address>
 */
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { MarketDataSubscriber } from '../engine/feed/market-data-subscriber.ts';
import { OrderPublisher } from '../engine/orders/order-publisher.ts';

const [marketData, topic, orders] = process.argv.slice(2);
if (marketData === undefined || topic === undefined || orders === undefined) {
  console.error('usage: forwarder.ts <market-data address> <topic> <orders address>');
  process.exit(2);
}
const subscriber = new MarketDataSubscriber({ connect: marketData, topics: [topic] }, { clockNs: monoNowNs, yieldEveryNs: 2_000_000 });
const publisher = new OrderPublisher({ connect: orders }, undefined);
await publisher.open();
await subscriber.open();
let frames = 0;
const loop = subscriber.run(
  (frame) => {
    frames++;
    publisher.publishOrders(frame, 0);
  },
  () => undefined,
);
console.log(`Forwarder started marketData=${marketData} topic=${topic} orders=${orders}`);
process.once('SIGTERM', () => {
  subscriber.close();
  void loop
    .then(() => publisher.drain())
    .then(() => {
      console.log(`Forwarder stopped frames=${frames}`);
      publisher.close();
      process.exit(0);
    });
});
