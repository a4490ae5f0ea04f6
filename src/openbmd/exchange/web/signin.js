// Sign-in: the partner's Ed25519 key, held in this page only, signs every view request.
//
// The key is parsed and imported here (WebCrypto, non-extractable) and never leaves the
// browser: the server sees only signatures. The signed bytes are exactly those of
// openbmd.exchange.auth.signing_bytes:
//
//   openbmd-request-v1\n<METHOD>\n<PATH>\n<QUERY>\n<TIMESTAMP>\n<NONCE>\n<PARTNER>
//
// QUERY is the request's parameters other than partner/ts/nonce/sig, sorted by name then
// value and form-encoded like Python's urllib.parse.urlencode (quote_plus).

const AUTH_QUERY = new Set(["partner", "ts", "nonce", "sig"]);
const enc = new TextEncoder();

function b64(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i += 1) out[i] = s.charCodeAt(i);
  return out;
}

function unb64url(text) {
  return unb64(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
}

// Python's quote_plus: only letters, digits and "_.-~" stay as they are; space becomes "+".
function quotePlus(s) {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, "+");
}

export function canonicalQuery(params) {
  const pairs = Object.entries(params)
    .filter(([k]) => !AUTH_QUERY.has(k))
    .map(([k, v]) => [String(k), String(v)]);
  pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join("&");
}

function newNonce() {
  const raw = crypto.getRandomValues(new Uint8Array(16));
  return b64(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function pemBody(pem, label) {
  const m = pem.match(new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`));
  return m ? unb64(m[1].replace(/\s+/g, "")) : null;
}

async function hexSha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// A signed-in partner: its name, key fingerprint and a request signer.
export class Partner {
  constructor(name, key, fingerprint) {
    this.name = name;
    this.key = key;
    this.fingerprint = fingerprint;
  }

  // Read a PKCS#8 PEM Ed25519 private key (as `openbmd exchange keygen` writes it).
  static async fromPem(name, pem) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
      throw new Error("partner: a registered partner name ([A-Za-z0-9._-], up to 64)");
    }
    if (/ENCRYPTED PRIVATE KEY/.test(pem)) {
      throw new Error("key: an encrypted key cannot be read here; give the unencrypted PKCS#8 PEM");
    }
    const der = pemBody(pem, "PRIVATE KEY");
    if (der === null) throw new Error("key: expected '-----BEGIN PRIVATE KEY-----' (PKCS#8 Ed25519)");
    let probe;
    try {
      probe = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, ["sign"]);
    } catch (err) {
      throw new Error(`key: not an Ed25519 PKCS#8 key (${err.message || err.name})`);
    }
    // the JWK of a private key carries its public half: the fingerprint the centre lists
    const jwk = await crypto.subtle.exportKey("jwk", probe);
    const key = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
    der.fill(0);
    return new Partner(name, key, await hexSha256(unb64url(jwk.x)));
  }

  // The partner/ts/nonce/sig parameters of a signed request.
  async sign(method, path, params) {
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = newNonce();
    const text = ["openbmd-request-v1", method.toUpperCase(), path, canonicalQuery(params), ts, nonce, this.name].join("\n");
    const sig = await crypto.subtle.sign({ name: "Ed25519" }, this.key, enc.encode(text));
    return { partner: this.name, ts, nonce, sig: b64(sig) };
  }

  // A signed GET (headers X-OpenBMD-*), answered as JSON.
  async get(path, params) {
    const s = await this.sign("GET", path, params);
    const headers = {
      "X-OpenBMD-Partner": s.partner,
      "X-OpenBMD-Timestamp": s.ts,
      "X-OpenBMD-Nonce": s.nonce,
      "X-OpenBMD-Signature": s.sig,
    };
    const resp = await fetch(`${path}?${new URLSearchParams(params)}`, { headers, cache: "no-store" });
    const doc = await resp.json();
    if (!resp.ok) throw new Error(`${doc.title || resp.status}: ${doc.detail || ""}`);
    return doc;
  }

  // The URL of a signed WebSocket feed (the four auth values in the query string).
  async feedUrl(after) {
    const params = { after: String(after) };
    const s = await this.sign("GET", "/v1/feed", params);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/v1/feed?${new URLSearchParams({ ...params, ...s })}`;
  }
}

export { b64, unb64 };
