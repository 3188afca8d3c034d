/**
 * `promise`, or a rejection with `Error(message)` once `ms` have passed first. The timer is cleared either way, so
 * nothing keeps the process alive after the race; the promise itself runs on (a caller that must stop late work
 * does so itself, e.g. closing a backend that opens after the deadline).
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
