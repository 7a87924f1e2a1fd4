use std::sync::Arc;

use super::*;
use crate::wire::name::parse_name_text;

fn key(alg: Algorithm) -> Arc<TsigKey> {
    Arc::new(TsigKey::new(
        parse_name_text("xfr-key.", None).unwrap(),
        alg,
        b"0123456789abcdef0123456789abcdef".to_vec(),
    ))
}

fn query(id: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    q.extend_from_slice(b"\x07example\x00\x00\xfc\x00\x01");
    q
}

fn response(id: u16, n: u8) -> Vec<u8> {
    let mut r = id.to_be_bytes().to_vec();
    r.extend_from_slice(&[0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]);
    r.extend_from_slice(b"\x07example\x00\x00\xfc\x00\x01");
    r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, n]);
    r
}

const NOW: u64 = 1_800_000_000;

#[test]
fn request_round_trip_for_every_algorithm() {
    for alg in Algorithm::ALL {
        let k = key(alg);
        let mut q = query(7);
        let mac = sign_request(&mut q, &k, NOW);
        assert_eq!(mac.as_slice().len(), alg.output_len());
        assert_eq!(
            u16::from_be_bytes([q[10], q[11]]),
            1,
            "ARCOUNT counts the TSIG record"
        );
        let t = locate(&q).unwrap().unwrap();
        assert_eq!(verify_request(&q, &t, Some(&k), NOW + 10).unwrap(), mac);
        // Time outside the fudge.
        assert_eq!(
            verify_request(&q, &t, Some(&k), NOW + 301),
            Err(TsigError::BadTime)
        );
        // No key, or a key with another name or secret.
        assert_eq!(verify_request(&q, &t, None, NOW), Err(TsigError::BadKey));
        let other = TsigKey::new(parse_name_text("other.", None).unwrap(), alg, b"x".to_vec());
        assert_eq!(
            verify_request(&q, &t, Some(&other), NOW),
            Err(TsigError::BadKey)
        );
        let wrong = TsigKey::new(
            parse_name_text("xfr-key.", None).unwrap(),
            alg,
            b"y".to_vec(),
        );
        assert_eq!(
            verify_request(&q, &t, Some(&wrong), NOW),
            Err(TsigError::BadSig)
        );
        // A flipped bit in the message.
        let mut bad = q.clone();
        bad[14] ^= 1;
        let t = locate(&bad).unwrap().unwrap();
        assert_eq!(
            verify_request(&bad, &t, Some(&k), NOW),
            Err(TsigError::BadSig)
        );
    }
}

#[test]
fn algorithm_mismatch_is_badkey() {
    let mut q = query(7);
    sign_request(&mut q, &key(Algorithm::HmacSha256), NOW);
    let t = locate(&q).unwrap().unwrap();
    assert_eq!(
        verify_request(&q, &t, Some(&key(Algorithm::HmacSha512)), NOW),
        Err(TsigError::BadKey)
    );
}

#[test]
fn multi_message_responses_with_unsigned_messages_between() {
    let k = key(Algorithm::HmacSha256);
    let mut q = query(9);
    let req_mac = sign_request(&mut q, &k, NOW);
    let mut signer = ResponseSigner::new(k.clone(), req_mac);
    let mut v = ResponseVerifier::new(k.clone(), req_mac);
    let mut m1 = response(9, 1);
    signer.sign(&mut m1, NOW);
    v.verify(&m1, NOW).unwrap();
    // Two unsigned messages, then a signed one covering them.
    let m2 = response(9, 2);
    let m3 = response(9, 3);
    signer.skip(&m2);
    signer.skip(&m3);
    v.verify(&m2, NOW).unwrap();
    v.verify(&m3, NOW).unwrap();
    assert_eq!(v.finish(), Err(TsigError::UnsignedEnd));
    let mut m4 = response(9, 4);
    signer.sign(&mut m4, NOW);
    v.verify(&m4, NOW).unwrap();
    v.finish().unwrap();
}

#[test]
fn tampered_or_unsigned_responses_fail() {
    let k = key(Algorithm::HmacSha1);
    let mut q = query(9);
    let req_mac = sign_request(&mut q, &k, NOW);
    // First message unsigned.
    let mut v = ResponseVerifier::new(k.clone(), req_mac);
    assert_eq!(v.verify(&response(9, 1), NOW), Err(TsigError::Unsigned));
    // An unsigned message changed in flight breaks the next signature.
    let mut signer = ResponseSigner::new(k.clone(), req_mac);
    let mut v = ResponseVerifier::new(k.clone(), req_mac);
    let mut m1 = response(9, 1);
    signer.sign(&mut m1, NOW);
    v.verify(&m1, NOW).unwrap();
    let m2 = response(9, 2);
    signer.skip(&m2);
    v.verify(&response(9, 99), NOW).unwrap();
    let mut m3 = response(9, 3);
    signer.sign(&mut m3, NOW);
    assert_eq!(v.verify(&m3, NOW), Err(TsigError::BadSig));
    // Signed against another request.
    let mut other = ResponseSigner::new(k.clone(), MacBytes::from_slice(&[1; 20]));
    let mut v = ResponseVerifier::new(k.clone(), req_mac);
    let mut m = response(9, 1);
    other.sign(&mut m, NOW);
    assert_eq!(v.verify(&m, NOW), Err(TsigError::BadSig));
}

#[test]
fn more_than_99_unsigned_messages_fail() {
    let k = key(Algorithm::HmacSha384);
    let mut q = query(1);
    let req_mac = sign_request(&mut q, &k, NOW);
    let mut signer = ResponseSigner::new(k.clone(), req_mac);
    let mut v = ResponseVerifier::new(k, req_mac);
    let mut m = response(1, 0);
    signer.sign(&mut m, NOW);
    v.verify(&m, NOW).unwrap();
    for _ in 0..99 {
        v.verify(&response(1, 5), NOW).unwrap();
    }
    assert_eq!(
        v.verify(&response(1, 5), NOW),
        Err(TsigError::TooManyUnsigned)
    );
}

#[test]
fn truncation_rules() {
    assert_eq!(check_mac_len(Algorithm::HmacSha256, &[0; 32]), Ok(()));
    assert_eq!(check_mac_len(Algorithm::HmacSha256, &[0; 16]), Ok(()));
    assert_eq!(
        check_mac_len(Algorithm::HmacSha256, &[0; 15]),
        Err(TsigError::BadTrunc)
    );
    assert_eq!(
        check_mac_len(Algorithm::HmacSha1, &[0; 9]),
        Err(TsigError::BadTrunc)
    );
    assert_eq!(
        check_mac_len(Algorithm::HmacSha1, &[0; 21]),
        Err(TsigError::Malformed)
    );
}

#[test]
fn error_records_are_unsigned() {
    let mut buf = vec![0u8; 512];
    let q = query(5);
    buf[..q.len()].copy_from_slice(&q);
    let end = append_error(
        &mut buf,
        q.len(),
        b"\x07xfr-key\x00",
        b"\x0bhmac-sha256\x00",
        NOW,
        error_code::BADKEY,
    )
    .unwrap();
    let t = locate(&buf[..end]).unwrap().unwrap();
    assert_eq!(t.rdata.error, error_code::BADKEY);
    assert!(t.rdata.mac.is_empty());
    assert_eq!(t.rdata.time_signed, NOW);
}
