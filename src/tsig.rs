//! TSIG (RFC 8945): signing requests, verifying responses message by
//! message (with the multi-message rules of §5.3.1), verifying signed
//! requests such as NOTIFY and signing their answers. The MACs come from
//! the RustCrypto `hmac`, `sha1` and `sha2` crates; comparisons are
//! constant-time.

use hmac::{Hmac, KeyInit, Mac};
use thiserror::Error;

use crate::wire::name::{NameBuf, lower};
use crate::wire::tsig::TsigRdata;
use crate::wire::{HEADER_LEN, Header, Message, Name};

/// Seconds of clock difference allowed (RFC 8945 §5.2.3 recommends 300).
pub const FUDGE: u16 = 300;
/// RFC 8945 §5.3.1: at least every 100th message of a response is signed.
const MAX_UNSIGNED_RUN: usize = 99;
/// TSIG record class and type.
const CLASS_ANY: u16 = 255;
const TYPE_TSIG: u16 = 250;

/// TSIG error codes carried in the record (RFC 8945 §3).
pub mod error_code {
    pub const BADSIG: u16 = 16;
    pub const BADKEY: u16 = 17;
    pub const BADTIME: u16 = 18;
    pub const BADTRUNC: u16 = 22;
}

/// MAC algorithms (RFC 8945 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha1,
    HmacSha224,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl Algorithm {
    const ALL: [Algorithm; 5] = [
        Algorithm::HmacSha1,
        Algorithm::HmacSha224,
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ];

    /// The name used in configuration files and on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "hmac-sha1",
            Algorithm::HmacSha224 => "hmac-sha224",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha384 => "hmac-sha384",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }

    pub fn from_name(s: &str) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
    }

    /// The algorithm whose name, in wire form, is `wire`.
    fn from_wire(wire: &[u8]) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| crate::wire::name::eq_ignore_case(&a.wire_name(), wire))
    }

    fn wire_name(self) -> Vec<u8> {
        let n = self.name();
        let mut v = Vec::with_capacity(n.len() + 2);
        v.push(n.len() as u8);
        v.extend_from_slice(n.as_bytes());
        v.push(0);
        v
    }

    pub fn output_len(self) -> usize {
        match self {
            Algorithm::HmacSha1 => 20,
            Algorithm::HmacSha224 => 28,
            Algorithm::HmacSha256 => 32,
            Algorithm::HmacSha384 => 48,
            Algorithm::HmacSha512 => 64,
        }
    }
}

/// A shared secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    /// Lowercase.
    pub name: Name,
    pub algorithm: Algorithm,
    secret: Box<[u8]>,
}

impl core::fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "TsigKey({} {})", self.name, self.algorithm.name())
    }
}

impl TsigKey {
    pub fn new(name: Name, algorithm: Algorithm, secret: Vec<u8>) -> TsigKey {
        TsigKey {
            name: name.to_lowercase(),
            algorithm,
            secret: secret.into_boxed_slice(),
        }
    }
}

/// A MAC, at most 64 octets, on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MacBytes {
    len: u8,
    bytes: [u8; 64],
}

impl MacBytes {
    pub fn from_slice(s: &[u8]) -> MacBytes {
        let mut bytes = [0u8; 64];
        let len = s.len().min(64);
        bytes[..len].copy_from_slice(&s[..len]);
        MacBytes {
            len: len as u8,
            bytes,
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl core::fmt::Debug for MacBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Mac({} octets)", self.len)
    }
}

/// A running HMAC of one of the algorithms.
#[derive(Clone)]
enum Running {
    Sha1(Hmac<sha1::Sha1>),
    Sha224(Hmac<sha2::Sha224>),
    Sha256(Hmac<sha2::Sha256>),
    Sha384(Hmac<sha2::Sha384>),
    Sha512(Hmac<sha2::Sha512>),
}

impl Running {
    fn new(key: &TsigKey) -> Running {
        // HMAC takes keys of any length: these cannot fail.
        let s = &key.secret[..];
        match key.algorithm {
            Algorithm::HmacSha1 => {
                Running::Sha1(Hmac::new_from_slice(s).unwrap_or_else(|_| unreachable!()))
            }
            Algorithm::HmacSha224 => {
                Running::Sha224(Hmac::new_from_slice(s).unwrap_or_else(|_| unreachable!()))
            }
            Algorithm::HmacSha256 => {
                Running::Sha256(Hmac::new_from_slice(s).unwrap_or_else(|_| unreachable!()))
            }
            Algorithm::HmacSha384 => {
                Running::Sha384(Hmac::new_from_slice(s).unwrap_or_else(|_| unreachable!()))
            }
            Algorithm::HmacSha512 => {
                Running::Sha512(Hmac::new_from_slice(s).unwrap_or_else(|_| unreachable!()))
            }
        }
    }

    fn update(&mut self, d: &[u8]) {
        match self {
            Running::Sha1(m) => m.update(d),
            Running::Sha224(m) => m.update(d),
            Running::Sha256(m) => m.update(d),
            Running::Sha384(m) => m.update(d),
            Running::Sha512(m) => m.update(d),
        }
    }

    fn finalize(self) -> MacBytes {
        match self {
            Running::Sha1(m) => MacBytes::from_slice(&m.finalize().into_bytes()),
            Running::Sha224(m) => MacBytes::from_slice(&m.finalize().into_bytes()),
            Running::Sha256(m) => MacBytes::from_slice(&m.finalize().into_bytes()),
            Running::Sha384(m) => MacBytes::from_slice(&m.finalize().into_bytes()),
            Running::Sha512(m) => MacBytes::from_slice(&m.finalize().into_bytes()),
        }
    }

    /// Constant-time check of `tag`, which may be truncated (its leftmost
    /// octets, RFC 8945 §5.2.2.1).
    fn verify(self, tag: &[u8]) -> bool {
        match self {
            Running::Sha1(m) => m.verify_truncated_left(tag).is_ok(),
            Running::Sha224(m) => m.verify_truncated_left(tag).is_ok(),
            Running::Sha256(m) => m.verify_truncated_left(tag).is_ok(),
            Running::Sha384(m) => m.verify_truncated_left(tag).is_ok(),
            Running::Sha512(m) => m.verify_truncated_left(tag).is_ok(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TsigError {
    #[error("message is not signed")]
    Unsigned,
    #[error("TSIG key or algorithm unknown (BADKEY)")]
    BadKey,
    #[error("TSIG signature does not verify (BADSIG)")]
    BadSig,
    #[error("TSIG time signed is outside the fudge window (BADTIME)")]
    BadTime,
    #[error("TSIG MAC truncated below what RFC 8945 §5.2.2.1 allows (BADTRUNC)")]
    BadTrunc,
    #[error("malformed TSIG record")]
    Malformed,
    #[error("more than 99 unsigned messages in a row")]
    TooManyUnsigned,
    #[error("the last message of the response is not signed")]
    UnsignedEnd,
    #[error("peer answered with TSIG error {}", crate::wire::iana::rcode::TsigDisplay(*.0))]
    PeerError(u16),
}

impl TsigError {
    /// The TSIG error code a server puts in its answer.
    pub fn code(self) -> u16 {
        match self {
            TsigError::BadKey => error_code::BADKEY,
            TsigError::BadTime => error_code::BADTIME,
            TsigError::BadTrunc => error_code::BADTRUNC,
            _ => error_code::BADSIG,
        }
    }
}

/// The TSIG record of a message.
pub struct Located<'a> {
    /// Where the TSIG record starts.
    pub start: usize,
    /// Key name, lowercase.
    pub key_name: NameBuf,
    /// Algorithm name as sent.
    pub algorithm: NameBuf,
    pub rdata: TsigRdata<'a>,
}

/// Finds the TSIG record, which must be the last record (RFC 8945 §5.1).
pub fn locate(msg: &[u8]) -> Result<Option<Located<'_>>, TsigError> {
    let m = Message::new_checked(msg).map_err(|_| TsigError::Malformed)?;
    let s = m.parse().map_err(|_| TsigError::Malformed)?;
    let Some(t) = s.tsig else {
        return Ok(None);
    };
    let rdata =
        TsigRdata::parse(msg, t.rdata_pos, t.rdata_len).map_err(|_| TsigError::Malformed)?;
    let mut key_name = t.owner();
    key_name.make_lowercase();
    let mut algorithm = NameBuf::root();
    algorithm
        .read(msg, rdata.algorithm_pos)
        .map_err(|_| TsigError::Malformed)?;
    Ok(Some(Located {
        start: t.start,
        key_name,
        algorithm,
        rdata,
    }))
}

fn u48(v: u64) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// Feeds the message without its TSIG record, with ARCOUNT one less and
/// the original ID (RFC 8945 §4.3.2).
fn feed_message(h: &mut Running, msg: &[u8], tsig_start: usize, original_id: u16) {
    let mut head = [0u8; HEADER_LEN];
    head.copy_from_slice(&msg[..HEADER_LEN]);
    head[..2].copy_from_slice(&original_id.to_be_bytes());
    let ar = u16::from_be_bytes([head[10], head[11]]).saturating_sub(1);
    head[10..12].copy_from_slice(&ar.to_be_bytes());
    h.update(&head);
    h.update(&msg[HEADER_LEN..tsig_start]);
}

/// Feeds the TSIG variables (RFC 8945 §4.3.3), or only the timers.
fn feed_variables(
    h: &mut Running,
    key: &TsigKey,
    time: u64,
    fudge: u16,
    error: u16,
    other: &[u8],
    timers_only: bool,
) {
    if !timers_only {
        let lower_name: Vec<u8> = key.name.as_wire().iter().map(|b| lower(*b)).collect();
        h.update(&lower_name);
        h.update(&CLASS_ANY.to_be_bytes());
        h.update(&0u32.to_be_bytes());
        h.update(&key.algorithm.wire_name());
    }
    h.update(&u48(time));
    h.update(&fudge.to_be_bytes());
    if !timers_only {
        h.update(&error.to_be_bytes());
        h.update(&(other.len() as u16).to_be_bytes());
        h.update(other);
    }
}

fn feed_prior(h: &mut Running, prior: &[u8]) {
    h.update(&(prior.len() as u16).to_be_bytes());
    h.update(prior);
}

/// How to sign: a request, a response to a request with this MAC, or an
/// unsigned error record.
#[derive(Debug, Clone, Copy)]
pub enum Signing<'a> {
    Request,
    Response { request_mac: &'a [u8] },
}

/// Appends a TSIG record signing `buf[..len]` and bumps ARCOUNT; returns
/// the new length and the MAC. `None` if `buf` has no room.
pub fn sign(
    buf: &mut [u8],
    len: usize,
    key: &TsigKey,
    how: Signing<'_>,
    now: u64,
    error: u16,
    other: &[u8],
) -> Option<(usize, MacBytes)> {
    let mut h = Running::new(key);
    if let Signing::Response { request_mac } = how {
        feed_prior(&mut h, request_mac);
    }
    h.update(buf.get(..len)?);
    feed_variables(&mut h, key, now, FUDGE, error, other, false);
    let mac = h.finalize();
    let id = u16::from_be_bytes([buf[0], buf[1]]);
    let end = write_record(buf, len, key, now, mac.as_slice(), id, error, other)?;
    Some((end, mac))
}

/// Appends an unsigned TSIG record carrying `error` (BADKEY and BADSIG
/// answers are unsigned, RFC 8945 §5.3.2), echoing the request's key and
/// algorithm names.
pub fn append_error(
    buf: &mut [u8],
    len: usize,
    key_name: &[u8],
    algorithm: &[u8],
    now: u64,
    error: u16,
) -> Option<usize> {
    let id = u16::from_be_bytes([buf[0], buf[1]]);
    let mut rdata = Vec::with_capacity(algorithm.len() + 16);
    rdata.extend_from_slice(algorithm);
    rdata.extend_from_slice(&u48(now));
    rdata.extend_from_slice(&FUDGE.to_be_bytes());
    rdata.extend_from_slice(&0u16.to_be_bytes());
    rdata.extend_from_slice(&id.to_be_bytes());
    rdata.extend_from_slice(&error.to_be_bytes());
    rdata.extend_from_slice(&0u16.to_be_bytes());
    put_record(buf, len, key_name, &rdata)
}

#[allow(clippy::too_many_arguments)]
fn write_record(
    buf: &mut [u8],
    len: usize,
    key: &TsigKey,
    now: u64,
    mac: &[u8],
    id: u16,
    error: u16,
    other: &[u8],
) -> Option<usize> {
    let mut rdata = Vec::with_capacity(64 + mac.len() + other.len());
    rdata.extend_from_slice(&key.algorithm.wire_name());
    rdata.extend_from_slice(&u48(now));
    rdata.extend_from_slice(&FUDGE.to_be_bytes());
    rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    rdata.extend_from_slice(mac);
    rdata.extend_from_slice(&id.to_be_bytes());
    rdata.extend_from_slice(&error.to_be_bytes());
    rdata.extend_from_slice(&(other.len() as u16).to_be_bytes());
    rdata.extend_from_slice(other);
    put_record(buf, len, key.name.as_wire(), &rdata)
}

fn put_record(buf: &mut [u8], len: usize, owner: &[u8], rdata: &[u8]) -> Option<usize> {
    let need = owner.len() + 10 + rdata.len();
    let rec = buf.get_mut(len..len + need)?;
    rec[..owner.len()].copy_from_slice(owner);
    let f = &mut rec[owner.len()..];
    f[..2].copy_from_slice(&TYPE_TSIG.to_be_bytes());
    f[2..4].copy_from_slice(&CLASS_ANY.to_be_bytes());
    f[4..8].copy_from_slice(&0u32.to_be_bytes());
    f[8..10].copy_from_slice(&(rdata.len() as u16).to_be_bytes());
    f[10..].copy_from_slice(rdata);
    let mut h = Header::new_checked(&mut buf[..HEADER_LEN]).ok()?;
    let ar = h.arcount();
    h.set_arcount(ar.checked_add(1)?);
    Some(len + need)
}

/// Appends a TSIG record to a request being built in a `Vec`; returns
/// the request MAC, which the response is verified against.
pub fn sign_request(msg: &mut Vec<u8>, key: &TsigKey, now: u64) -> MacBytes {
    let len = msg.len();
    msg.resize(len + 512, 0);
    match sign(msg, len, key, Signing::Request, now, 0, &[]) {
        Some((end, mac)) => {
            msg.truncate(end);
            mac
        }
        None => unreachable!("512 octets hold any TSIG record"),
    }
}

/// Checks MAC length rules (RFC 8945 §5.2.2.1).
fn check_mac_len(alg: Algorithm, mac: &[u8]) -> Result<(), TsigError> {
    let full = alg.output_len();
    if mac.len() > full {
        return Err(TsigError::Malformed);
    }
    if mac.len() < full && (mac.len() < 10 || mac.len() < full / 2) {
        return Err(TsigError::BadTrunc);
    }
    Ok(())
}

fn check_time(time: u64, fudge: u16, now: u64) -> Result<(), TsigError> {
    if now.abs_diff(time) > fudge as u64 {
        return Err(TsigError::BadTime);
    }
    Ok(())
}

/// Verifies a signed request with `key` (the key the receiver has for
/// this peer). On success returns the request MAC, to sign the answer.
pub fn verify_request(
    msg: &[u8],
    t: &Located<'_>,
    key: Option<&TsigKey>,
    now: u64,
) -> Result<MacBytes, TsigError> {
    let key = key.ok_or(TsigError::BadKey)?;
    if t.key_name.as_wire() != key.name.as_wire()
        || Algorithm::from_wire(t.algorithm.as_wire()) != Some(key.algorithm)
    {
        return Err(TsigError::BadKey);
    }
    check_mac_len(key.algorithm, t.rdata.mac)?;
    let mut h = Running::new(key);
    feed_signed(&mut h, key, msg, t);
    check_signature(h, t, now)?;
    Ok(MacBytes::from_slice(t.rdata.mac))
}

/// Feeds a signed message without its TSIG record, then the TSIG
/// variables (RFC 8945 §4.3.1).
fn feed_signed(h: &mut Running, key: &TsigKey, msg: &[u8], t: &Located<'_>) {
    feed_message(h, msg, t.start, t.rdata.original_id);
    feed_variables(
        h,
        key,
        t.rdata.time_signed,
        t.rdata.fudge,
        t.rdata.error,
        t.rdata.other,
        false,
    );
}

/// The MAC, then the time (RFC 8945 §5.2.3: BADSIG is checked first).
fn check_signature(h: Running, t: &Located<'_>, now: u64) -> Result<(), TsigError> {
    if !h.verify(t.rdata.mac) {
        return Err(TsigError::BadSig);
    }
    check_time(t.rdata.time_signed, t.rdata.fudge, now)
}

/// Verifies the messages answering a signed request, in order.
pub struct ResponseVerifier {
    key: std::sync::Arc<TsigKey>,
    prior: MacBytes,
    running: Option<Running>,
    unsigned_run: usize,
    signed_once: bool,
}

impl ResponseVerifier {
    pub fn new(key: std::sync::Arc<TsigKey>, request_mac: MacBytes) -> Self {
        ResponseVerifier {
            key,
            prior: request_mac,
            running: None,
            unsigned_run: 0,
            signed_once: false,
        }
    }

    /// Checks one message of the response. The first must be signed;
    /// later ones may be unsigned, up to 99 in a row.
    pub fn verify(&mut self, msg: &[u8], now: u64) -> Result<(), TsigError> {
        let Some(t) = locate(msg)? else {
            if !self.signed_once {
                return Err(TsigError::Unsigned);
            }
            self.unsigned_run += 1;
            if self.unsigned_run > MAX_UNSIGNED_RUN {
                return Err(TsigError::TooManyUnsigned);
            }
            if let Some(h) = self.running.as_mut() {
                h.update(msg);
            }
            return Ok(());
        };
        if t.key_name.as_wire() != self.key.name.as_wire()
            || Algorithm::from_wire(t.algorithm.as_wire()) != Some(self.key.algorithm)
        {
            return Err(TsigError::BadKey);
        }
        if t.rdata.error != 0 {
            return Err(TsigError::PeerError(t.rdata.error));
        }
        check_mac_len(self.key.algorithm, t.rdata.mac)?;
        let h = match self.running.take() {
            // Later messages: prior MAC and unsigned messages already fed;
            // only the timers follow (RFC 8945 §5.3.1).
            Some(mut h) => {
                feed_message(&mut h, msg, t.start, t.rdata.original_id);
                feed_variables(
                    &mut h,
                    &self.key,
                    t.rdata.time_signed,
                    t.rdata.fudge,
                    0,
                    &[],
                    true,
                );
                h
            }
            None => {
                let mut h = Running::new(&self.key);
                feed_prior(&mut h, self.prior.as_slice());
                feed_signed(&mut h, &self.key, msg, &t);
                h
            }
        };
        check_signature(h, &t, now)?;
        self.prior = MacBytes::from_slice(t.rdata.mac);
        let mut next = Running::new(&self.key);
        feed_prior(&mut next, self.prior.as_slice());
        self.running = Some(next);
        self.unsigned_run = 0;
        self.signed_once = true;
        Ok(())
    }

    /// At the end of the response: the last message must have been signed.
    pub fn finish(&self) -> Result<(), TsigError> {
        if self.unsigned_run > 0 || !self.signed_once {
            return Err(TsigError::UnsignedEnd);
        }
        Ok(())
    }
}

/// Signs the messages of a multi-message response (AXFR-out, and the
/// tests' stand-in for a primary): the first fully, later ones with the
/// prior MAC, the messages left unsigned since, and the timers only.
pub struct ResponseSigner {
    key: std::sync::Arc<TsigKey>,
    running: Running,
    first: bool,
}

impl ResponseSigner {
    pub fn new(key: std::sync::Arc<TsigKey>, request_mac: MacBytes) -> Self {
        let mut running = Running::new(&key);
        feed_prior(&mut running, request_mac.as_slice());
        ResponseSigner {
            key,
            running,
            first: true,
        }
    }

    /// Signs `msg` in place.
    pub fn sign(&mut self, msg: &mut Vec<u8>, now: u64) {
        let len = msg.len();
        msg.resize(len + 512, 0);
        let end = self.sign_in(msg, len, now).unwrap_or(len);
        msg.truncate(end);
    }

    /// Signs the message `buf[..len]`, appending its TSIG record in
    /// `buf`; the new length, or `None` when `buf` has no room (nothing
    /// is then counted as sent).
    pub fn sign_in(&mut self, buf: &mut [u8], len: usize, now: u64) -> Option<usize> {
        let mut h = self.running.clone();
        h.update(buf.get(..len)?);
        feed_variables(&mut h, &self.key, now, FUDGE, 0, &[], !self.first);
        let mac = h.finalize();
        let id = u16::from_be_bytes([*buf.first()?, *buf.get(1)?]);
        let end = write_record(buf, len, &self.key, now, mac.as_slice(), id, 0, &[])?;
        self.running = Running::new(&self.key);
        feed_prior(&mut self.running, mac.as_slice());
        self.first = false;
        Some(end)
    }

    /// Octets the TSIG record of a message takes at most.
    pub fn reserve(&self) -> usize {
        self.key.name.len()
            + 10
            + self.key.algorithm.wire_name().len()
            + 16
            + self.key.algorithm.output_len()
    }

    /// Sends `msg` unsigned: it is covered by the next signature.
    pub fn skip(&mut self, msg: &[u8]) {
        self.running.update(msg);
    }
}

#[cfg(test)]
mod tests;
