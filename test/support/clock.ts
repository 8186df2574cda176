/**
 * The test issuer takes `iat` from the wall clock in whole seconds, so a token minted with
 * `expiresInSeconds: n` lives anywhere between n − 1 and n seconds. A test that needs the token to be
 * valid for its first call and expired soon after mints it right after a second begins.
 */
export async function startOfSecond(): Promise<void> {
  const into = Date.now() % 1000;
  if (into < 20) return;
  await new Promise((resolve) => setTimeout(resolve, 1001 - into));
}
