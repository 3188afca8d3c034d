import { atrBatch } from '../atr.ts';
import { bbandsBatch } from '../bbands.ts';
import { emaBatch } from '../ema.ts';
import { macdBatch } from '../macd.ts';
import { rsiBatch } from '../rsi.ts';
import { smaBatch } from '../sma.ts';
import { stochBatch } from '../stoch.ts';
import { vwapBatch } from '../vwap.ts';
import type { BatchBackend } from './batch-backend.ts';

/** The reference backend: the JS batch functions themselves (the other backends are checked against it). */
export function createJsBackend(): BatchBackend {
  return {
    name: 'js',
    sma: smaBatch,
    ema: emaBatch,
    rsi: rsiBatch,
    macd: macdBatch,
    bbands: bbandsBatch,
    atr: atrBatch,
    vwap: vwapBatch,
    stoch: stochBatch,
    close: async () => undefined,
  };
}
