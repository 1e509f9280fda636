//! Prints how many RS256 signatures and verifications per second fullmakt's JOSE layer does on
//! one thread: the in-process ceiling for token issuance (one verify + one sign per token).
//! A measuring program, not a test: `cargo run --release -p fullmakt-jose --example rsa_speed`.

use std::time::{Duration, Instant};

use fullmakt_jose::{Algorithm, CompactJws, RsaKeySize, SigningKey};

fn rate(run_for: Duration, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < run_for {
        op();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let key = SigningKey::generate(RsaKeySize::Rsa2048).expect("key generation");
    let header = br#"{"kid":"k","alg":"RS256"}"#;
    // About the size of a Maskinporten access token's claims.
    let payload = vec![b'x'; 430];
    let signs = rate(Duration::from_secs(3), || {
        std::hint::black_box(key.sign_compact(header, &payload).unwrap());
    });
    let token = key.sign_compact(header, &payload).unwrap();
    let jwk = key.public_jwk();
    let (n, e) = (jwk.modulus(), jwk.exponent());
    let jws = CompactJws::parse(&token).unwrap();
    let verifies = rate(Duration::from_secs(3), || {
        assert!(std::hint::black_box(jws.verify_rsa(Algorithm::RS256, &n, &e)));
    });
    let tokens = 1.0 / (1.0 / signs + 1.0 / verifies);
    println!("aws-lc-rs RS256 (RSA-2048), one thread: {signs:.0} sign/s, {verifies:.0} verify/s, ceiling {tokens:.0} tokens/s (1 verify + 1 sign)");
}
