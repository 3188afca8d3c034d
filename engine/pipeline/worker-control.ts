import { waitAsync } from '../threads/wait-async.ts';

/**
 * The workers layout's shared control block: a small Int32Array over a SharedArrayBuffer that every worker
 * attaches to. It carries two things, each on its own 64-byte line:
 *
 *     Int32 index  0   generation       bumped after every change of the switches below or of the ownership cells
 *                  1   ordersEnabled    1 / 0: the engine's orders-on/off switch
 *                  2   killSwitch       1 / 0: the engine's latched kill switch
 *                 16   mainWake         1 while the main thread waits for output (Atomics.waitAsync on it)
 *
 * Risk switches (main writes, workers read). `publishSwitches` stores the switches, then bumps the generation;
 * a worker loads the generation once per batch, after it has seen that batch's ticks, and re-applies the
 * switches to its own RiskEngine when the generation moved. Atomics are sequentially consistent, so every tick
 * published after `publishSwitches` returns is checked under the new switches (at once, no message round trip).
 *
 * Main wake-up (workers write, main waits). The main thread raises `mainWake`, re-checks the output rings, and
 * waits with `Atomics.waitAsync(mainWake, 1)`, so an idle main thread neither spins nor polls on a timer. A
 * worker that has just published output calls `wakeMain()`: if the flag is raised it clears it (1 -> 0, one
 * compare-and-swap; only one worker wins) and notifies. No wake-up is lost, by the argument of the ring's
 * BlockingWaitStrategy: main raises the flag before its re-check and a worker stores its sequence before it
 * loads the flag, so either main's re-check sees the output or the worker sees the flag; a notify that comes
 * before the wait makes `waitAsync` return 'not-equal' at once. A busy worker pays one Atomics.load per batch.
 */
const GENERATION = 0;
const ORDERS_ENABLED = 1;
const KILL_SWITCH = 2;
const MAIN_WAKE = 16;
const CONTROL_INTS = 32;


export class PipelineControl {
  readonly sab: SharedArrayBuffer;
  private readonly cells: Int32Array;

  static create(ordersEnabled: boolean, killSwitch: boolean): PipelineControl {
    const control = new PipelineControl(new SharedArrayBuffer(CONTROL_INTS * 4));
    control.publishSwitches(ordersEnabled, killSwitch);
    return control;
  }

  static attach(sab: SharedArrayBuffer): PipelineControl {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength !== CONTROL_INTS * 4) {
      throw new TypeError(`PipelineControl.attach needs the ${CONTROL_INTS * 4}-byte SharedArrayBuffer made by create()`);
    }
    return new PipelineControl(sab);
  }

  private constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.cells = new Int32Array(sab);
  }

  // ---- Risk switches ---------------------------------------------------------------------------------

  /** Main: stores the switches, then bumps the generation so workers re-apply them before their next batch. */
  publishSwitches(ordersEnabled: boolean, killSwitch: boolean): void {
    Atomics.store(this.cells, ORDERS_ENABLED, ordersEnabled ? 1 : 0);
    Atomics.store(this.cells, KILL_SWITCH, killSwitch ? 1 : 0);
    Atomics.add(this.cells, GENERATION, 1);
  }

  /**
   * Main, after writing the ownership cells (and any taken-over positions): bumps the generation so every worker
   * copies the cells before its next batch, and every tick published after this is decided under them.
   */
  publishOwnership(): void {
    Atomics.add(this.cells, GENERATION, 1);
  }

  /** Worker: the switches' generation; load it before the switches themselves. */
  generation(): number {
    return Atomics.load(this.cells, GENERATION);
  }

  ordersEnabled(): boolean {
    return Atomics.load(this.cells, ORDERS_ENABLED) !== 0;
  }

  killSwitch(): boolean {
    return Atomics.load(this.cells, KILL_SWITCH) !== 0;
  }

  // ---- Main wake-up ----------------------------------------------------------------------------------

  /** Main: raises the wake flag. Re-check the output rings after this and before `waitForWake`. */
  raiseWake(): void {
    Atomics.store(this.cells, MAIN_WAKE, 1);
  }

  /**
   * Main: a promise that settles once a worker clears the flag (or `wakeNow` is called), or null when the flag
   * is already down (a worker published since `raiseWake`): then drain at once.
   */
  waitForWake(): Promise<unknown> | null {
    const result = waitAsync(this.cells, MAIN_WAKE, 1);
    return result.async ? result.value : null;
  }

  /** Worker, after publishing output: wakes the main thread if, and only if, it is waiting. */
  wakeMain(): void {
    const cells = this.cells;
    if (Atomics.load(cells, MAIN_WAKE) !== 0 && Atomics.compareExchange(cells, MAIN_WAKE, 1, 0) === 1) {
      Atomics.notify(cells, MAIN_WAKE);
    }
  }

  /** Main, at shutdown: settles a pending `waitForWake` whatever the flag says. */
  wakeNow(): void {
    Atomics.store(this.cells, MAIN_WAKE, 0);
    Atomics.notify(this.cells, MAIN_WAKE);
  }
}
