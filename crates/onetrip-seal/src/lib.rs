//! SM2/SM3 electronic seals (电子印章, GB/T 38540): canonical encoding of signed content,
//! SM3 digests, SM2 keys in PKCS#8 / SPKI PEM, and SM2 signatures in DER (OpenSSL's format)
//! with the default distinguishing ID [`DISTINGUISHING_ID`].
//!
//! # Canonical encoding of signed content
//!
//! What is signed is never "some JSON": it is the bytes [`canonical_json`] makes from a JSON
//! value, under these rules, chosen so that RFC 8785 (JCS) implementations and
//! `python3 -c 'json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)'`
//! produce exactly the same bytes (UTF-8):
//!
//! - allowed values: `null`, `true`, `false`, strings, integers, arrays and objects;
//! - **numbers must be integers** in `-(2^53 - 1) ..= 2^53 - 1` (the range every JSON
//!   implementation, JCS included, writes the same way); any number with a fraction or an
//!   exponent (a float) is refused — write amounts as integer fen, dates as strings;
//! - **object keys must be ASCII** (any byte 0x00–0x7F); values may use any Unicode. With ASCII
//!   keys, sorting by UTF-16 code units (JCS), by code points (Python) and by bytes (us) agree;
//! - objects: members sorted by key, `{"k":v,…}`; arrays `[v,…]`; no whitespace anywhere;
//! - strings: `"` and `\` escaped as `\"` and `\\`; U+0008, U+0009, U+000A, U+000C, U+000D as
//!   `\b`, `\t`, `\n`, `\f`, `\r`; every other character below U+0020 as `\u00xx` (lower-case hex);
//!   everything else (non-ASCII included, `/` and U+007F included) written as itself in UTF-8;
//! - integers in plain decimal, `-` for negatives, no leading zeros, `0` for zero.
//!
//! # Signatures
//!
//! SM2 (GB/T 32918.2) over SM3: the signer hashes `Z_A || M` where `Z_A` is computed from the
//! distinguishing ID [`DISTINGUISHING_ID`] and the public key, and `M` is the canonical
//! encoding. Signatures are the ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` that OpenSSL
//! writes and reads, so
//! `openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678 -pubin -inkey
//! key.pem -in content.json -sigfile sig.der` verifies them. Signing is deterministic
//! (RFC 6979 nonces). This implementation (RustCrypto) is not certified: the application keeps
//! signing behind a trait so that a certified signing server or HSM can replace it.
#![forbid(unsafe_code)]

pub mod kek;

pub use kek::{KekError, KeyEncryptionKey};
use std::fmt;

use base64::Engine;
use serde_json::Value;
use sm2::dsa::signature::{Signer, Verifier};
use sm2::elliptic_curve::Generate;
use sm2::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sm3::{Digest, Sm3};

/// The SM2 distinguishing ID (user ID) of every onetrip signature: the GB/T 35276 default.
pub const DISTINGUISHING_ID: &str = "1234567812345678";

/// Name of the signature algorithm, as written in exports.
pub const ALGORITHM: &str = "SM2-SM3";

/// The largest integer magnitude the canonical encoding accepts (2^53 − 1).
pub const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// Why a value has no canonical encoding, or a key, signature or verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// A number is not an integer (it has a fraction or an exponent). Carries the JSON path.
    #[error("{0}: floating-point numbers are not allowed in signed content")]
    Float(String),
    /// An integer is outside ±(2^53 − 1). Carries the JSON path.
    #[error("{0}: integer out of the range ±(2^53 - 1)")]
    IntegerRange(String),
    /// An object key is not ASCII. Carries the JSON path of the object.
    #[error("{0}: object keys must be ASCII")]
    NonAsciiKey(String),
    /// A key (PEM, DER or raw bytes) could not be decoded.
    #[error("invalid key: {0}")]
    Key(String),
    /// A signature is not well-formed DER of an SM2 signature.
    #[error("malformed signature")]
    MalformedSignature,
    /// The signature does not verify for this message and key.
    #[error("signature does not verify")]
    BadSignature,
}

/// Result of this crate.
pub type Result<T, E = SealError> = std::result::Result<T, E>;

/// The canonical encoding of `value` (see the crate documentation for the rules).
pub fn canonical_json(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value, &mut String::from("$"))?;
    Ok(out)
}

/// The canonical encoding of `value` as a string (it is always UTF-8).
pub fn canonical_json_string(value: &Value) -> Result<String> {
    let bytes = canonical_json(value)?;
    // Only UTF-8 strings and ASCII punctuation are ever written.
    String::from_utf8(bytes).map_err(|_| SealError::Float(String::from("$")))
}

fn write_value(out: &mut Vec<u8>, value: &Value, path: &mut String) -> Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            let i = if let Some(i) = n.as_i64() {
                i
            } else if n.as_u64().is_some() {
                return Err(SealError::IntegerRange(path.clone()));
            } else {
                return Err(SealError::Float(path.clone()));
            };
            if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) {
                return Err(SealError::IntegerRange(path.clone()));
            }
            out.extend_from_slice(i.to_string().as_bytes());
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                write_value(out, item, path)?;
                path.truncate(len);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            if map.keys().any(|k| !k.is_ascii()) {
                return Err(SealError::NonAsciiKey(path.clone()));
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                let len = path.len();
                path.push('.');
                path.push_str(key);
                if let Some(v) = map.get(key) {
                    write_value(out, v, path)?;
                }
                path.truncate(len);
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for ch in s.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => {
                let b = c as u32 as usize;
                out.extend_from_slice(b"\\u00");
                out.push(HEX[b >> 4]);
                out.push(HEX[b & 0xf]);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// The SM3 digest of `bytes`.
pub fn sm3(bytes: &[u8]) -> [u8; 32] {
    Sm3::digest(bytes).into()
}

/// The SM3 digest of `bytes`, lower-case hex.
pub fn sm3_hex(bytes: &[u8]) -> String {
    hex(&sm3(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// The previous hash of the first link of a hash chain: 64 zeros.
pub const CHAIN_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One link of a hash chain (a case's event log): lower-case hex of
/// `SM3(previous hash as ASCII hex || 0x0A || record)`, where `record` is the canonical JSON of the
/// link ([`canonical_json`]) and the first link's previous hash is [`CHAIN_GENESIS`]. Changing any
/// byte of any record changes its hash and, through the previous-hash input, every later one.
pub fn chain_hash(previous: &str, record: &[u8]) -> String {
    let mut h = Sm3::new();
    h.update(previous.as_bytes());
    h.update(b"\n");
    h.update(record);
    hex(&h.finalize())
}

/// Checks a chain of `(previous hash, record, hash)` links in order: returns the index of the
/// first link whose previous hash is not the hash before it (or [`CHAIN_GENESIS`] for the first)
/// or whose hash is not [`chain_hash`] of its inputs; `None` when the chain is intact.
pub fn first_broken_link<'a>(
    links: impl IntoIterator<Item = (&'a str, &'a [u8], &'a str)>,
) -> Option<usize> {
    let mut expected_previous = CHAIN_GENESIS.to_string();
    for (i, (previous, record, hash)) in links.into_iter().enumerate() {
        if previous != expected_previous || chain_hash(previous, record) != hash {
            return Some(i);
        }
        expected_previous = hash.to_string();
    }
    None
}

/// Standard base64 (with padding) of `bytes`, as signatures are written in exports.
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64 (with padding).
pub fn base64_decode(text: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| SealError::MalformedSignature)
}

/// An SM2 private key (a seal's signing key). Its `Debug` hides the key.
#[derive(Clone)]
pub struct SealKey {
    key: sm2::dsa::SigningKey,
    public: SealPublicKey,
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKey")
            .field("public", &self.public.fingerprint())
            .finish_non_exhaustive()
    }
}

impl SealKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<SealKey> {
        Self::from_secret(&sm2::SecretKey::generate())
    }

    fn from_secret(secret: &sm2::SecretKey) -> Result<SealKey> {
        let key = sm2::dsa::SigningKey::new(DISTINGUISHING_ID, secret)
            .map_err(|e| SealError::Key(e.to_string()))?;
        let public = SealPublicKey::from_public(secret.public_key())?;
        Ok(SealKey { key, public })
    }

    /// A key from its 32-byte big-endian scalar (tests, test vectors).
    pub fn from_scalar_bytes(bytes: &[u8]) -> Result<SealKey> {
        let secret =
            sm2::SecretKey::from_slice(bytes).map_err(|e| SealError::Key(e.to_string()))?;
        Self::from_secret(&secret)
    }

    /// Reads an unencrypted PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), such as
    /// `openssl genpkey -algorithm SM2` writes.
    pub fn from_pkcs8_pem(pem: &str) -> Result<SealKey> {
        let secret =
            sm2::SecretKey::from_pkcs8_pem(pem).map_err(|e| SealError::Key(e.to_string()))?;
        Self::from_secret(&secret)
    }

    /// The key as unencrypted PKCS#8 PEM. Secret: store it as such.
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        let secret = sm2::SecretKey::from(self.key.as_nonzero_scalar());
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SealError::Key(e.to_string()))?;
        Ok(pem.to_string())
    }

    /// The public half.
    pub fn public_key(&self) -> &SealPublicKey {
        &self.public
    }

    /// Signs `message` (SM2 over SM3 with [`DISTINGUISHING_ID`]); returns the DER signature.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let sig: sm2::dsa::Signature = self
            .key
            .try_sign(message)
            .map_err(|_| SealError::MalformedSignature)?;
        Ok(sig.to_der().to_vec())
    }
}

/// An SM2 public key (a seal's verification key), ready to verify: the `Z_A` hash of the
/// distinguishing ID is computed once, when the key is made.
///
/// Verification is public-data arithmetic, so it runs in variable time, and it splits both
/// scalars of `[s]G + [t]P` in 128-bit halves over precomputed `G`, `[2^128]G`, `P` and
/// `[2^128]P` (window-6 wNAF tables; the key's are made once per key, the generator's once per
/// process): one interleaved 4-term multiplication with 128 doublings instead of 256. The
/// `sm2` crate's own verifier (constant-time, 256 doublings) is about 4× slower; a test
/// checks both give the same answers on valid and invalid signatures.
#[derive(Clone)]
pub struct SealPublicKey {
    key: sm2::dsa::VerifyingKey,
    tables: std::sync::Arc<[Table; 2]>,
    z: [u8; 32],
    spki_der: Vec<u8>,
}

/// A wNAF window table of window 6.
type Table = wnaf::WnafBase<sm2::ProjectivePoint, wnaf::array::typenum::U6>;
/// A wNAF recoding of window 6.
type Digits = wnaf::WnafScalar<sm2::Scalar, wnaf::array::typenum::U6>;

/// Tables of `P` and `[2^128]P`.
fn split_tables(point: sm2::ProjectivePoint) -> [Table; 2] {
    use sm2::elliptic_curve::Group;
    let mut high = point;
    for _ in 0..128 {
        high = high.double();
    }
    [Table::new(&point), Table::new(&high)]
}

/// Tables of the generator `G` and `[2^128]G`, made once.
fn generator_tables() -> &'static [Table; 2] {
    static TABLES: std::sync::OnceLock<[Table; 2]> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| split_tables(sm2::ProjectivePoint::GENERATOR))
}

/// Little-endian low and high 128-bit halves of a scalar, as wNAF digits.
fn split_digits(k: &sm2::Scalar) -> [Digits; 2] {
    let mut le: [u8; 32] = k.to_bytes().into();
    le.reverse();
    [
        Digits::from_le_bytes(&le[..16]),
        Digits::from_le_bytes(&le[16..]),
    ]
}

/// SM2 curve parameters (GB/T 32918.5) that enter `Z_A`: a, b, x_G, y_G.
const CURVE_A: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
const CURVE_B: [u8; 32] = hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
const GEN_X: [u8; 32] = hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
const GEN_Y: [u8; 32] = hex32("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");

/// 64 hex digits → 32 bytes, at compile time.
const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("not upper-case hex"),
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// `Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)` for [`DISTINGUISHING_ID`].
fn z_a(public: &sm2::PublicKey) -> Result<[u8; 32]> {
    use sm2::elliptic_curve::sec1::ToSec1Point;
    let point = public.to_sec1_point(false);
    let bytes = point.as_bytes();
    if bytes.len() != 65 {
        return Err(SealError::Key("not an uncompressed point".to_owned()));
    }
    // 16 bytes = 128 bits, the distinguishing ID's length in bits as two bytes.
    let entl = u16::try_from(DISTINGUISHING_ID.len() * 8)
        .map_err(|_| SealError::Key("distinguishing ID too long".to_owned()))?;
    let mut h = Sm3::new();
    h.update(entl.to_be_bytes());
    h.update(DISTINGUISHING_ID.as_bytes());
    h.update(CURVE_A);
    h.update(CURVE_B);
    h.update(GEN_X);
    h.update(GEN_Y);
    h.update(&bytes[1..]);
    Ok(h.finalize().into())
}

impl fmt::Debug for SealPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SealPublicKey")
            .field(&self.fingerprint())
            .finish()
    }
}

impl PartialEq for SealPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}

impl Eq for SealPublicKey {}

impl SealPublicKey {
    fn from_public(public: sm2::PublicKey) -> Result<SealPublicKey> {
        let spki_der = public
            .to_public_key_der()
            .map_err(|e| SealError::Key(e.to_string()))?
            .as_bytes()
            .to_vec();
        let z = z_a(&public)?;
        let tables = std::sync::Arc::new(split_tables(public.to_projective()));
        let key = sm2::dsa::VerifyingKey::new(DISTINGUISHING_ID, public)
            .map_err(|e| SealError::Key(e.to_string()))?;
        Ok(SealPublicKey {
            key,
            tables,
            z,
            spki_der,
        })
    }

    /// Reads a SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), such as
    /// `openssl pkey -pubout` writes for an SM2 key.
    pub fn from_spki_pem(pem: &str) -> Result<SealPublicKey> {
        let public = sm2::PublicKey::from_public_key_pem(pem.trim())
            .map_err(|e| SealError::Key(e.to_string()))?;
        Self::from_public(public)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<SealPublicKey> {
        let public =
            sm2::PublicKey::from_public_key_der(der).map_err(|e| SealError::Key(e.to_string()))?;
        Self::from_public(public)
    }

    /// The key as SubjectPublicKeyInfo PEM.
    pub fn to_spki_pem(&self) -> Result<String> {
        let public = sm2::PublicKey::from(&self.key);
        public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| SealError::Key(e.to_string()))
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// SM3 of the DER SubjectPublicKeyInfo, lower-case hex: a stable name for the key.
    pub fn fingerprint(&self) -> String {
        sm3_hex(&self.spki_der)
    }

    /// Verifies a DER signature over `message` (SM2 over SM3 with [`DISTINGUISHING_ID`]).
    pub fn verify(&self, message: &[u8], der_signature: &[u8]) -> Result<()> {
        let sig = sm2::dsa::Signature::from_der(der_signature)
            .map_err(|_| SealError::MalformedSignature)?;
        // `from_der` accepts some non-minimal encodings; insist on the one we would write, so
        // that a signature has exactly one accepted byte form.
        if sig.to_der().as_bytes() != der_signature {
            return Err(SealError::MalformedSignature);
        }
        self.verify_fast(message, &sig)
    }

    /// GB/T 32918.2 verification, steps B1–B7, with variable-time arithmetic.
    fn verify_fast(&self, message: &[u8], sig: &sm2::dsa::Signature) -> Result<()> {
        use sm2::elliptic_curve::Group;
        use sm2::elliptic_curve::ops::Reduce;
        use sm2::elliptic_curve::point::AffineCoordinates;
        // B1, B2: r and s are in [1, n-1] (checked when the signature was parsed).
        let (r, s) = sig.split_scalars();
        // B3, B4: e = SM3(Z_A || M).
        let mut h = Sm3::new();
        h.update(self.z);
        h.update(message);
        let e = sm2::Scalar::reduce(&sm2::FieldBytes::from(<[u8; 32]>::from(h.finalize())));
        // B5: t = r + s mod n, t ≠ 0.
        let t = *r + *s;
        if bool::from(t.is_zero()) {
            return Err(SealError::BadSignature);
        }
        // B6: (x1, y1) = [s]G + [t]P_A, not the point at infinity; with s = s0 + 2^128 s1 and
        // t = t0 + 2^128 t1: [s0]G + [s1]([2^128]G) + [t0]P + [t1]([2^128]P).
        let [g, g_high] = generator_tables();
        let [p, p_high] = &*self.tables;
        let [s0, s1] = split_digits(&s);
        let [t0, t1] = split_digits(&t);
        let point =
            Table::multiscalar_mul([(g, &s0), (g_high, &s1), (p, &t0), (p_high, &t1)].into_iter());
        if bool::from(point.is_identity()) {
            return Err(SealError::BadSignature);
        }
        // B7: R = e + x1 mod n must equal r.
        let x = point.to_affine().x();
        if *r == e + sm2::Scalar::reduce(&x) {
            Ok(())
        } else {
            Err(SealError::BadSignature)
        }
    }

    /// Verification through the `sm2` crate's own (constant-time) verifier; kept to check the
    /// fast path against it.
    #[doc(hidden)]
    pub fn verify_reference(&self, message: &[u8], der_signature: &[u8]) -> Result<()> {
        let sig = sm2::dsa::Signature::from_der(der_signature)
            .map_err(|_| SealError::MalformedSignature)?;
        self.key
            .verify(message, &sig)
            .map_err(|_| SealError::BadSignature)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_and_strips() {
        let v = json!({"b": [1, "x", null, true], "a": {"z": -3, "y": "中文\n\"\\\u{1}"}});
        assert_eq!(
            canonical_json_string(&v).unwrap(),
            "{\"a\":{\"y\":\"中文\\n\\\"\\\\\\u0001\",\"z\":-3},\"b\":[1,\"x\",null,true]}"
        );
    }

    #[test]
    fn canonical_refuses_floats_big_integers_and_non_ascii_keys() {
        assert!(matches!(
            canonical_json(&json!({"a": [1.5]})),
            Err(SealError::Float(p)) if p == "$.a[0]"
        ));
        assert!(matches!(
            canonical_json(&json!({"a": 9_007_199_254_740_992_i64})),
            Err(SealError::IntegerRange(_))
        ));
        assert!(matches!(
            canonical_json(&json!({"a": u64::MAX})),
            Err(SealError::IntegerRange(_))
        ));
        assert!(matches!(
            canonical_json(&json!({"姓名": 1})),
            Err(SealError::NonAsciiKey(_))
        ));
        assert_eq!(
            canonical_json(&json!(MAX_SAFE_INTEGER)).unwrap(),
            b"9007199254740991"
        );
    }

    #[test]
    fn a_chain_detects_any_changed_byte() {
        let records: Vec<Vec<u8>> = (0..4)
            .map(|i| format!("{{\"seq\":{i}}}").into_bytes())
            .collect();
        let mut prev = CHAIN_GENESIS.to_string();
        let mut links = Vec::new();
        for r in &records {
            let h = chain_hash(&prev, r);
            links.push((prev.clone(), r.clone(), h.clone()));
            prev = h;
        }
        let check = |links: &[(String, Vec<u8>, String)]| {
            first_broken_link(
                links
                    .iter()
                    .map(|(p, r, h)| (p.as_str(), r.as_slice(), h.as_str())),
            )
        };
        assert_eq!(check(&links), None);
        for i in 0..links.len() {
            for byte in 0..links[i].1.len() {
                let mut tampered = links.clone();
                tampered[i].1[byte] ^= 1;
                assert_eq!(check(&tampered), Some(i), "record {i} byte {byte}");
            }
        }
        // Dropping a link breaks the next one.
        let mut dropped = links.clone();
        dropped.remove(1);
        assert_eq!(check(&dropped), Some(1));
    }

    #[test]
    fn sm3_known_answer() {
        // GB/T 32905 example 1: "abc".
        assert_eq!(
            sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn sign_verify_and_pem_round_trip() {
        let key = SealKey::generate().unwrap();
        let sig = key.sign(b"hello").unwrap();
        key.public_key().verify(b"hello", &sig).unwrap();
        assert_eq!(
            key.public_key().verify(b"hellp", &sig),
            Err(SealError::BadSignature)
        );
        let pem = key.to_pkcs8_pem().unwrap();
        let again = SealKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let pub_pem = key.public_key().to_spki_pem().unwrap();
        let public = SealPublicKey::from_spki_pem(&pub_pem).unwrap();
        public.verify(b"hello", &sig).unwrap();
        assert!(format!("{key:?}").len() < 200);
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn fast_verification_agrees_with_the_reference() {
        for seed in 1u8..=12 {
            let key = SealKey::from_scalar_bytes(&[seed; 32]).unwrap();
            let other = SealKey::from_scalar_bytes(&[seed.wrapping_add(100); 32]).unwrap();
            let msg = [seed; 40];
            let good = key.sign(&msg).unwrap();
            let pk = key.public_key();
            assert_eq!(pk.verify(&msg, &good), Ok(()));
            assert_eq!(pk.verify_reference(&msg, &good), Ok(()));
            for (m, sig) in [
                (&msg[..], other.sign(&msg).unwrap()),
                (&msg[..5], good.clone()),
                (&b""[..], key.sign(b"").unwrap()),
            ] {
                assert_eq!(
                    pk.verify(m, &sig).is_ok(),
                    pk.verify_reference(m, &sig).is_ok(),
                    "seed {seed}"
                );
            }
        }
    }

    #[test]
    fn every_flipped_signature_byte_fails() {
        let key = SealKey::from_scalar_bytes(&[7u8; 32]).unwrap();
        let sig = key.sign(b"content").unwrap();
        for i in 0..sig.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = sig.clone();
                bad[i] ^= bit;
                assert!(
                    key.public_key().verify(b"content", &bad).is_err(),
                    "byte {i}"
                );
            }
        }
    }
}
