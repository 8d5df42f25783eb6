// jwt.mjs — make test tokens with node's crypto (no JWT library, so the daemon is checked
// against an independent implementation).
//   node jwt.mjs hs256 SECRET '{"role":"web_user"}'      HMAC-SHA256
//   node jwt.mjs rs256 KEY.pem '{"role":"web_user"}'     RSA-SHA256 with a PEM private key
//   node jwt.mjs none - '{"role":"web_admin"}'           unsigned ("alg":"none")
// Claims may use "exp": "+3600" / "-3600" for now plus or minus seconds.
import { createHmac, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const b64 = (s) => Buffer.from(s).toString('base64url');

export function sign(alg, key, claims) {
  const now = Math.floor(Date.now() / 1000);
  const c = { ...claims };
  for (const k of ['exp', 'nbf', 'iat']) {
    if (typeof c[k] === 'string') c[k] = now + Number(c[k]);
  }
  const header = { alg: alg === 'none' ? 'none' : alg.toUpperCase(), typ: 'JWT' };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(c))}`;
  if (alg === 'none') return `${input}.`;
  if (alg === 'hs256') return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  const signer = createSign('RSA-SHA256');
  signer.update(input);
  return `${input}.${signer.sign(key, 'base64url')}`;
}

if (process.argv[1] && process.argv[1].endsWith('jwt.mjs')) {
  const [alg, key, claims] = process.argv.slice(2);
  const k = alg === 'rs256' ? readFileSync(key, 'utf8') : key;
  process.stdout.write(sign(alg, k, JSON.parse(claims)));
}
