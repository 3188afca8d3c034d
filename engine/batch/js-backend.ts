import { atrBatch } from '../indicators/atr.ts';
import { bbandsBatch } from '../indicators/bbands.ts';
import { emaBatch } from '../indicators/ema.ts';
import { macdBatch } from '../indicators/macd.ts';
import { rsiBatch } from '../indicators/rsi.ts';
import { smaBatch } from '../indicators/sma.ts';
import { stochBatch } from '../indicators/stoch.ts';
import { vwapBatch } from '../indicators/vwap.ts';
import type { BatchBackend } from './batch-backend.ts';
import { gramBatch } from './gram.ts';

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
    gram: gramBatch,
    close: async () => undefined,
  };
}
