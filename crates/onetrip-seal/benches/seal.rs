//! SM2 verification of a certificate's seal, the operation public verification performs:
//! canonical encoding of the signed document, then SM2-over-SM3 verification with a parsed,
//! cached public key (as the application caches registered keys). `bench/sm2.sh` runs this
//! next to `openssl speed sm2` on one core.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use onetrip_seal::{SealKey, canonical_json};
use serde_json::json;

fn certificate() -> serde_json::Value {
    json!({
        "certificate_id": "1.2.156.3005.2.1111000000001930XA001.1133010600425119XW.201600000001.1.K",
        "certificate_type": "ID_CARD",
        "type_code": "1111000000001930XA001",
        "type_name": "居民身份证",
        "issuer": {"credit_code": "1133010600425119XW", "name": "杭州市公安局西湖区分局"},
        "holder": {"kind": "person", "id": "330102198503140138"},
        "issued_on": "2016-05-20",
        "valid_until": "2036-05-20",
        "content": {"name": "陈志明", "sex": "男", "ethnicity": "汉", "birth_date": "1985-03-14",
                    "address": "浙江省杭州市西湖区文三路199号", "resident_id": "330102198503140138"},
        "seal_key_id": "1133010600425119XW-1-0123abcd"
    })
}

fn bench(c: &mut Criterion) {
    let key = SealKey::from_scalar_bytes(&[0x42; 32]).unwrap();
    let doc = certificate();
    let message = canonical_json(&doc).unwrap();
    let sig = key.sign(&message).unwrap();
    let public = key.public_key().clone();
    let mut g = c.benchmark_group("certificate");
    g.bench_function("sm2_verify", |b| {
        b.iter(|| public.verify(black_box(&message), black_box(&sig)).unwrap())
    });
    g.bench_function("canonicalise_and_verify", |b| {
        b.iter(|| {
            let m = canonical_json(black_box(&doc)).unwrap();
            public.verify(&m, black_box(&sig)).unwrap()
        })
    });
    g.bench_function("sm2_sign", |b| {
        b.iter(|| key.sign(black_box(&message)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
