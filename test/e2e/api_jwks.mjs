// api_jwks.mjs — keys and tokens for test/e2e/api_jwks.sh, made with node's crypto only (an
// implementation independent of the daemon's).  `node api_jwks.mjs DIR` writes DIR/jwks.json
// (RSA keys k1 and k2, an oct key h1), DIR/jwk.json (k1 alone, without kid) and DIR/tokens.sh
// (shell assignments of the tokens the test sends).
import { createHmac, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const dir = process.argv[2];
const b64 = (s) => Buffer.from(s).toString('base64url');
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const k1 = rsa();
const k2 = rsa();
const stranger = rsa();
const secret = randomBytes(32);
const jwk = (pair, kid) => ({ ...pair.publicKey.export({ format: 'jwk' }), ...(kid ? { kid } : {}), alg: 'RS256', use: 'sig' });

function sign(alg, key, header, claims) {
  const input = `${b64(JSON.stringify({ alg, typ: 'JWT', ...header }))}.${b64(JSON.stringify(claims))}`;
  if (alg === 'HS256') return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key, 'base64url')}`;
}

const user = { role: 'web_user', sub: 'u1', exp: Math.floor(Date.now() / 1000) + 3600 };
const tokens = {
  RS_K1: sign('RS256', k1.privateKey, { kid: 'k1' }, user),
  RS_K2: sign('RS256', k2.privateKey, { kid: 'k2' }, user),
  RS_K2_NOKID: sign('RS256', k2.privateKey, {}, user),
  RS_K2_AS_K1: sign('RS256', k2.privateKey, { kid: 'k1' }, user),
  RS_UNKNOWN_KID: sign('RS256', k1.privateKey, { kid: 'zz' }, user),
  RS_STRANGER: sign('RS256', stranger.privateKey, {}, user),
  RS_K1_EXPIRED: sign('RS256', k1.privateKey, { kid: 'k1' }, { ...user, exp: Math.floor(Date.now() / 1000) - 3600 }),
  HS_H1: sign('HS256', secret, { kid: 'h1' }, user),
  HS_NOKID: sign('HS256', secret, {}, user),
  HS_WRONG: sign('HS256', randomBytes(32), { kid: 'h1' }, user),
  // HS256 keyed with the RSA key's JWK text: alg confusion must not work
  HS_WITH_PUBLIC: sign('HS256', JSON.stringify(jwk(k1, 'k1')), {}, user),
  NONE: `${b64(JSON.stringify({ alg: 'none', kid: 'k1' }))}.${b64(JSON.stringify(user))}.`,
};
writeFileSync(`${dir}/jwks.json`, JSON.stringify({
  keys: [jwk(k1, 'k1'), jwk(k2, 'k2'), { kty: 'oct', kid: 'h1', alg: 'HS256', k: secret.toString('base64url') }],
}));
writeFileSync(`${dir}/jwk.json`, JSON.stringify(jwk(k1)));
writeFileSync(`${dir}/tokens.sh`, Object.entries(tokens).map(([k, v]) => `${k}='${v}'\n`).join(''));
