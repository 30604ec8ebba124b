// Benchmark peer: node `oidc-provider` configured like onetrip's OAuth token endpoint, so that
// bench/oidc-peer.sh can measure the client_credentials and refresh_token grants of both the same
// way. See README.md in this directory for the configuration choices.
//
// Environment:
//   PORT                 listen port on 127.0.0.1 (default 7400); the issuer is http://127.0.0.1:PORT
//   PEER_SECRET          client secret of both clients (default "bench-secret")
//   PEER_REFRESH_TOKENS  refresh tokens minted at start-up for client bench-rp (default 2000)
//   PEER_TOKENS_FILE     where to write them, one per line (default: not written)
// Prints "ready <issuer>" on stdout once it listens.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

import Provider, { errors } from 'oidc-provider';

const PORT = Number(process.env.PORT || 7400);
const HOST = '127.0.0.1';
const ISSUER = `http://${HOST}:${PORT}`;
const SECRET = process.env.PEER_SECRET || 'bench-secret';
const REFRESH_TOKENS = Number(process.env.PEER_REFRESH_TOKENS ?? 2000);
const TOKENS_FILE = process.env.PEER_TOKENS_FILE || '';

// The one protected resource (audience of the JWT access tokens).
const RESOURCE = 'urn:onetrip:api';
const ACCOUNT_ID = 'bench-account';

const ACCESS_TOKEN_TTL = 10 * 60; // 10 minutes
const REFRESH_TOKEN_TTL = 30 * 24 * 60 * 60; // 30 days

// Signing keys, generated at every start: one ES256 (P-256) and one RS256 (RSA 2048) key.
function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}` };
}
const jwks = {
  keys: [
    signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
  ],
};

// In-memory adapter. Same data model and semantics as oidc-provider's built-in memory adapter
// (lib/adapters/memory_adapter.js: "Model:id" keys, consume() marks the stored payload, a
// per-grant index for revokeByGrantId, expiry by TTL), but unbounded: the built-in one is an LRU
// of 1,000 to 2,000 entries, which evicts the minted refresh tokens (2,000 tokens + 2,000 grants)
// long before the benchmark gets to them, and then keeps evicting live tokens under load.
const store = new Map(); // key -> { payload, expiresAt }
const grantIndex = new Map(); // grantId -> Set of keys
const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

function live(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.payload;
}

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    store.set(key, { payload, expiresAt });
    if (this.model === 'Session') store.set(`sessionUid:${payload.uid}`, { payload: id, expiresAt });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id, expiresAt });
    if (grantable.has(this.model) && payload.grantId) {
      let members = grantIndex.get(payload.grantId);
      if (!members) grantIndex.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
  }

  async find(id) {
    return live(this.key(id));
  }

  async findByUid(uid) {
    const id = live(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = live(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = live(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    const key = this.key(id);
    const entry = store.get(key);
    store.delete(key);
    if (entry?.payload?.grantId) grantIndex.get(entry.payload.grantId)?.delete(key);
  }

  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) ?? []) store.delete(key);
    grantIndex.delete(grantId);
  }
}

const clients = [
  {
    client_id: 'bench-machine',
    client_secret: SECRET,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'api',
  },
  {
    client_id: 'bench-rp',
    client_secret: SECRET,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1:9/cb'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid offline_access api',
    // The refresh response carries an ID token (the refresh token has "openid"): sign it with
    // ES256 like everything else instead of oidc-provider's default RS256.
    id_token_signed_response_alg: 'ES256',
  },
];

const configuration = {
  adapter: MapAdapter,
  clients,
  jwks,
  scopes: ['openid', 'offline_access', 'api'],
  cookies: { keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub }),
  }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No `resource` parameter → the API. client_credentials thus always gets a JWT.
      defaultResource: async (ctx, client, oneOf) => oneOf ?? RESOURCE,
      // refresh_token: use the resource recorded on the refresh token even though the scope has
      // "openid" (otherwise oidc-provider issues an opaque userinfo-only access token).
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: 'api',
          audience: RESOURCE,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    ClientCredentials: ACCESS_TOKEN_TTL,
    RefreshToken: REFRESH_TOKEN_TTL,
    Grant: REFRESH_TOKEN_TTL,
    IdToken: ACCESS_TOKEN_TTL,
    AuthorizationCode: 60,
    Interaction: 60 * 60,
    Session: 14 * 24 * 60 * 60,
  },
};

const provider = new Provider(ISSUER, configuration);
// Nothing sits in front of the peer (plain HTTP on loopback, like onetrip in the bench), so
// X-Forwarded-* headers are not trusted.
provider.proxy = false;

provider.on('server_error', (ctx, err) => {
  console.error('server_error', err);
});

async function mintRefreshTokens(count) {
  const client = await provider.Client.find('bench-rp');
  const authTime = Math.floor(Date.now() / 1000);
  const tokens = [];
  for (let i = 0; i < count; i++) {
    const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: client.clientId });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(RESOURCE, 'api');
    const grantId = await grant.save();
    const rt = new provider.RefreshToken({
      client,
      accountId: ACCOUNT_ID,
      grantId,
      gty: 'authorization_code',
      scope: 'openid offline_access api',
      resource: RESOURCE,
      authTime,
      expiresWithSession: false,
      rotations: 0,
    });
    tokens.push(await rt.save());
  }
  return tokens;
}

const tokens = await mintRefreshTokens(REFRESH_TOKENS);
if (TOKENS_FILE) writeFileSync(TOKENS_FILE, tokens.length ? `${tokens.join('\n')}\n` : '');

const server = provider.listen(PORT, HOST, () => {
  console.log(`ready ${ISSUER} (${tokens.length} refresh tokens${TOKENS_FILE ? ` in ${TOKENS_FILE}` : ''})`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
