// api_jwks.mjs — keys and tokens for test/e2e/api_jwks.sh, made with node's crypto only (an
// implementation independent of the daemon's).  `node api_jwks.mjs DIR` writes DIR/jwks.json
// (RSA keys k1 and k2, an oct key h1, EC keys e1 on P-256 and e2 on P-384), DIR/jwk.json (k1
// alone, without kid), DIR/e1.pem, DIR/e2.pem and DIR/k256.pem (PEM EC public keys, the last on
// secp256k1), DIR/rot-e1.json and DIR/rot-e3.json (one-key sets for the rotation test),
// DIR/bad-ec.sh (broken EC JWKs) and DIR/tokens.sh (shell assignments of the tokens the test
// sends).
import { createHmac, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const dir = process.argv[2];
const b64 = (s) => Buffer.from(s).toString('base64url');
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const k1 = rsa();
const k2 = rsa();
const stranger = rsa();
const secret = randomBytes(32);
const ec = (namedCurve) => generateKeyPairSync('ec', { namedCurve });
const e1 = ec('P-256');
const e2 = ec('P-384');
const e3 = ec('P-256');
const ecStranger = ec('P-256');
const jwk = (pair, kid, alg = 'RS256') => ({ ...pair.publicKey.export({ format: 'jwk' }), ...(kid ? { kid } : {}), alg, use: 'sig' });
const pem = (pair) => pair.publicKey.export({ format: 'pem', type: 'spki' });

// sign(alg, key, header, claims, dsaEncoding): ES* signatures are JWS's raw r || s unless 'der'
function sign(alg, key, header, claims, dsaEncoding = 'ieee-p1363') {
  const input = `${b64(JSON.stringify({ alg, typ: 'JWT', ...header }))}.${b64(JSON.stringify(claims))}`;
  const bits = alg.slice(2);
  if (alg.startsWith('HS')) return `${input}.${createHmac(`sha${bits}`, key).update(input).digest('base64url')}`;
  if (alg.startsWith('ES')) return `${input}.${createSign(`SHA${bits}`).update(input).sign({ key, dsaEncoding }, 'base64url')}`;
  return `${input}.${createSign(`RSA-SHA${bits}`).update(input).sign(key, 'base64url')}`;
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
  ES256_E1: sign('ES256', e1.privateKey, { kid: 'e1' }, user),
  ES256_E1_NOKID: sign('ES256', e1.privateKey, {}, user),
  ES384_E2: sign('ES384', e2.privateKey, { kid: 'e2' }, user),
  ES384_E2_NOKID: sign('ES384', e2.privateKey, {}, user),
  ES256_E3: sign('ES256', e3.privateKey, { kid: 'e3' }, user),
  ES256_STRANGER: sign('ES256', ecStranger.privateKey, {}, user),
  // a DER-encoded signature (what OpenSSL makes, not what JWS wants) must not verify
  ES256_E1_DER: sign('ES256', e1.privateKey, {}, user, 'der'),
  // P-384 key, ES256 header: the curve does not fit the alg
  ES256_BY_P384: sign('ES256', e2.privateKey, {}, user),
  // e1 signs with SHA-384 and says ES384: a P-256 key never verifies ES384
  ES384_BY_P256: sign('ES384', e1.privateKey, {}, user),
  // HS256 keyed with the EC key's PEM text: alg confusion
  HS_WITH_EC_PEM: sign('HS256', pem(e1), {}, user),
  NONE_EC: `${b64(JSON.stringify({ alg: 'none' }))}.${b64(JSON.stringify(user))}.`,
};
writeFileSync(`${dir}/jwks.json`, JSON.stringify({
  keys: [jwk(k1, 'k1'), jwk(k2, 'k2'), { kty: 'oct', kid: 'h1', alg: 'HS256', k: secret.toString('base64url') },
    jwk(e1, 'e1', 'ES256'), jwk(e2, 'e2', 'ES384')],
}));
writeFileSync(`${dir}/e1.pem`, pem(e1));
writeFileSync(`${dir}/e2.pem`, pem(e2));
writeFileSync(`${dir}/k256.pem`, pem(ec('secp256k1')));
writeFileSync(`${dir}/rot-e1.json`, JSON.stringify({ keys: [jwk(e1, 'e1', 'ES256')] }));
writeFileSync(`${dir}/rot-e3.json`, JSON.stringify({ keys: [jwk(e3, 'e3', 'ES256')] }));
const e1jwk = jwk(e1, 'e1', 'ES256');
const bad = {
  BAD_EC_CRV: { ...e1jwk, crv: 'P-521' },
  BAD_EC_SHORT_X: { ...e1jwk, x: e1jwk.x.slice(0, 20) },
  BAD_EC_NO_Y: { ...e1jwk, y: undefined },
  BAD_EC_OFF_CURVE: { ...e1jwk, y: Buffer.alloc(32, 7).toString('base64url') },
  BAD_EC_ALG: { ...e1jwk, alg: 'ES384' },
};
writeFileSync(`${dir}/bad-ec.sh`, Object.entries(bad)
  .map(([k, v]) => `${k}='${JSON.stringify({ keys: [jwk(k1, 'k1'), v] })}'\n`).join(''));
writeFileSync(`${dir}/jwk.json`, JSON.stringify(jwk(k1)));
writeFileSync(`${dir}/tokens.sh`, Object.entries(tokens).map(([k, v]) => `${k}='${v}'\n`).join(''));
