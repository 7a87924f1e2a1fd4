//! The authoritative answer to an IN query from one zone snapshot: RFC 1034
//! §4.3.2 with RFC 2181, RFC 4592 (wildcards), RFC 6672 (DNAME), RFC 8482
//! (ANY) and RFC 9471 (glue), shaped after Knot DNS's answers.

use smallvec::SmallVec;

use super::emit::{RdataOffsets, put_rrset, target_offset};
use super::request::Request;
use crate::wire::iana::{class, rcode, rtype};
use crate::wire::name::{MAX_NAME_LEN, NameBuf, SuffixHashes, is_subdomain, split_name};
use crate::wire::writer::{MessageWriter, Owner, Section};
use crate::zone::Snapshot;
use crate::zone::node::{HASH_LEN, Node, flags};
use crate::zone::nsec3::Params;
use crate::zone::rrset::RRset;

/// Most CNAME and DNAME links followed inside the zone.
const MAX_CHAIN: usize = 16;
/// Most names whose addresses are looked up for the additional section.
const MAX_ADDITIONAL: usize = 32;
/// Most NSEC records one answer carries: a CNAME chain may add a wildcard
/// proof per link, and the final name two more (RFC 4035 §3.1.3).
const MAX_PROOFS: usize = 8;

/// What the answer says about itself in the header, and what kind of
/// answer it is (for response rate limiting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    pub aa: bool,
    pub tc: bool,
    pub rcode: u16,
    pub class: AnswerClass,
    /// Labels dropped from the question name to get the name the class
    /// is about: the cut of a referral, the parent of a wildcard, the
    /// apex for NXDOMAIN.
    pub key_skip: u8,
}

/// Kinds of answers, as response rate limiting tells them apart (the
/// classes of BIND's and NSD's RRL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AnswerClass {
    /// Data for the name and type asked.
    #[default]
    Positive,
    NoData,
    NxDomain,
    Referral,
    /// Data (or no data) a wildcard made.
    Wildcard,
    /// SERVFAIL, REFUSED, FORMERR and the like.
    Error,
}

/// A name whose A and AAAA go into the additional section.
struct Additional<'z> {
    target: &'z [u8],
    /// Where the target was written, if it can be pointed at.
    at: Option<usize>,
    /// In-domain glue of a referral: TC when it does not fit (RFC 9471).
    required: bool,
}

/// Where the name being resolved appears in the response.
#[derive(Clone, Copy)]
enum Origin {
    /// The question name, at offset 12.
    Question,
    /// Written at this offset (a CNAME or synthesized CNAME target).
    At(usize),
}

enum Step {
    Done,
    /// Go on with the next name (lowercase, already in the scratch),
    /// written at this offset.
    Chase(usize),
}

/// Name buffers reused from query to query: a CNAME chain or an additional
/// lookup needs a name and its suffix hashes, and building them fresh per
/// name (a kilobyte of hashes) showed in profiles.
pub struct LookupScratch {
    /// The name being resolved and the next one in the chain.
    names: [NameBuf; 2],
    /// Suffix hashes of the name being resolved (when it is not the
    /// question's), then of each additional target.
    hashes: SuffixHashes,
}

impl Default for LookupScratch {
    fn default() -> Self {
        LookupScratch {
            names: [NameBuf::root(), NameBuf::root()],
            hashes: SuffixHashes::compute(&NameBuf::root()),
        }
    }
}

struct Resolver<'z, 'r, 'w, 'b> {
    zone: &'z Snapshot,
    req: &'r Request,
    w: &'w mut MessageWriter<'b>,
    /// The owner offset of the apex inside the question name.
    apex_ptr: u16,
    res: Resolution,
    /// Inline up to its limit: the query path never allocates.
    additional: SmallVec<[Additional<'z>; MAX_ADDITIONAL]>,
    /// Nodes whose CNAME was already followed: meeting one again is a loop,
    /// and the chain stops there (as in Knot).
    visited: SmallVec<[*const u8; MAX_CHAIN]>,
    /// Where the RDATA of the RRset last written went.
    rdata_at: RdataOffsets,
    /// DO=1 and the zone is signed: RRSIGs and denial proofs go in
    /// (RFC 4035 §3.1); never otherwise.
    dnssec: bool,
    /// Nodes whose NSEC (with its RRSIG) ends the authority section.
    proofs: SmallVec<[Node<'z>; MAX_PROOFS]>,
}

/// Writes the answer, authority and additional sections for `req` from
/// `zone`; `below_apex` is how many labels of the question name lie below
/// the apex.
pub fn resolve(
    zone: &Snapshot,
    req: &Request,
    below_apex: usize,
    w: &mut MessageWriter<'_>,
    scratch: &mut LookupScratch,
) -> Resolution {
    let apex_ptr = (12 + req.qname.suffix_start(below_apex)) as u16;
    let mut r = Resolver {
        zone,
        req,
        w,
        apex_ptr,
        res: Resolution {
            aa: true,
            tc: false,
            rcode: rcode::NOERROR,
            class: AnswerClass::Positive,
            key_skip: 0,
        },
        additional: SmallVec::new(),
        visited: SmallVec::new(),
        rdata_at: RdataOffsets::new(),
        dnssec: req.edns.is_some_and(|e| e.dnssec_ok) && zone.is_signed(),
        proofs: SmallVec::new(),
    };
    r.run(scratch);
    match r.res.rcode {
        rcode::NOERROR => {}
        // Any name of the zone: rate-limited as one (RFC-less, the RRL
        // model: a random-subdomain flood is one stream).
        rcode::NXDOMAIN => {
            r.res.class = AnswerClass::NxDomain;
            r.res.key_skip = u8::try_from(below_apex).unwrap_or(0);
        }
        _ => r.res.class = AnswerClass::Error,
    }
    if !r.res.tc {
        r.put_proofs();
    }
    if !r.res.tc {
        r.put_additional(scratch);
    }
    r.res
}

impl<'z> Resolver<'z, '_, '_, '_> {
    fn run(&mut self, scratch: &mut LookupScratch) {
        let LookupScratch { names, hashes } = scratch;
        let [a, b] = names;
        let (mut cur, mut next) = (a, b);
        let Step::Chase(mut at) =
            self.step(&self.req.lower, &self.req.hashes, next, Origin::Question)
        else {
            return;
        };
        for _ in 1..MAX_CHAIN {
            // The name just produced becomes the one resolved.
            std::mem::swap(&mut cur, &mut next);
            // Only data of this zone is followed (Knot does the same).
            if !is_subdomain(cur.as_wire(), self.zone.apex_wire()) {
                return;
            }
            hashes.compute_into(cur);
            match self.step(cur, hashes, next, Origin::At(at)) {
                Step::Done => return,
                Step::Chase(written) => at = written,
            }
        }
    }

    /// The owner to write for the suffix of the current name that drops
    /// `skip` labels.
    fn owner<'n>(&self, name: &'n NameBuf, origin: Origin, skip: usize) -> Owner<'n> {
        match origin {
            Origin::Question => Owner::Pointer((12 + self.req.qname.suffix_start(skip)) as u16),
            Origin::At(at) if skip == 0 && at <= 0x3fff => Owner::Pointer(at as u16),
            Origin::At(_) => Owner::Name(name.suffix(skip)),
        }
    }

    /// Resolves `name`; a CNAME or DNAME leaves the name to go on with in
    /// `next`.
    fn step(
        &mut self,
        name: &NameBuf,
        hashes: &SuffixHashes,
        next: &mut NameBuf,
        origin: Origin,
    ) -> Step {
        let below = name.label_count() - self.zone.apex_labels();
        // The closest encloser: empty non-terminals exist as nodes, and
        // the apex always does, so the first hit from the longest suffix
        // is exact (RFC 4592 §3.3.1).
        let mut skip = 0;
        let mut node = loop {
            if let Some(n) = self.zone.get(name.suffix(skip), hashes.get(skip)) {
                break n;
            }
            if skip >= below {
                self.res.rcode = rcode::SERVFAIL;
                return Step::Done;
            }
            skip += 1;
        };
        // Below a cut or DNAME: the topmost one rules (RFC 1034 §4.3.2
        // step 3b). Ancestors exist, so this walk only follows links.
        while node.has_flag(flags::OCCLUDED) && skip < below {
            skip += 1;
            match self.zone.get(name.suffix(skip), hashes.get(skip)) {
                Some(n) => node = n,
                None => break,
            }
        }
        if node.has_flag(flags::DELEGATION) && !(skip == 0 && self.req.qtype == rtype::DS) {
            let owner = self.owner(name, origin, skip);
            self.referral(node, owner);
            self.classify(AnswerClass::Referral, origin, skip);
            return Step::Done;
        }
        if node.has_flag(flags::DNAME) && skip > 0 {
            return self.dname(node, name, next, origin, skip);
        }
        if skip == 0 {
            let owner = self.owner(name, origin, 0);
            return self.answer_node(node, owner, next);
        }
        // RFC 4592: the wildcard child of the closest encloser.
        let suffix = name.suffix(skip);
        let mut wild = [0u8; MAX_NAME_LEN];
        wild[..2].copy_from_slice(b"\x01*");
        wild[2..2 + suffix.len()].copy_from_slice(suffix);
        let wild = &wild[..2 + suffix.len()];
        // The next closer name: the closest encloser and one label more.
        let next_closer = name.suffix(skip - 1);
        if let Some(wc) = self.zone.get(wild, hashes.wildcard(skip)) {
            // RFC 4035 §3.1.3.3: prove that no closer name matched;
            // NSEC3: the next closer name is covered (RFC 5155 §7.2.6),
            // and a wildcard NODATA also shows the closest encloser
            // (RFC 5155 §7.2.5).
            self.cover(name.as_wire());
            self.nsec3_cover_name(next_closer);
            let qtype = self.req.qtype;
            if qtype != rtype::ANY && wc.rrset(qtype).is_none() && wc.rrset(rtype::CNAME).is_none()
            {
                self.nsec3_match(node);
            }
            let owner = self.owner(name, origin, 0);
            let step = self.answer_node(wc, owner, next);
            // Keyed by the wildcard's parent: every name it answers for
            // is one stream.
            self.classify(AnswerClass::Wildcard, origin, skip);
            return step;
        }
        // RFC 4035 §3.1.3.2: the name does not exist, nor the wildcard
        // that could have answered for it. NSEC3 (RFC 5155 §7.2.2): the
        // closest encloser matched, the next closer name and the wildcard
        // covered.
        self.cover(name.as_wire());
        self.cover(wild);
        self.nsec3_match(node);
        if self.nsec3_cover_name(next_closer) {
            // No proof can get past a hash collision (RFC 5155 §7.2.9).
            self.proofs.clear();
            self.res.rcode = rcode::SERVFAIL;
            return Step::Done;
        }
        self.nsec3_cover_wildcard(node, wild);
        self.negative(rcode::NXDOMAIN);
        Step::Done
    }

    /// Answers from the node that matches the name (or its wildcard).
    fn answer_node(&mut self, node: Node<'z>, owner: Owner<'_>, next: &mut NameBuf) -> Step {
        let qtype = self.req.qtype;
        if qtype == rtype::ANY {
            // RFC 8482 §4.2: one RRset is enough; Knot gives the lowest type.
            match node.rrsets().next() {
                Some(set) => self.answer(owner, node, set),
                None => self.nodata(node),
            }
            return Step::Done;
        }
        if let Some(set) = node.rrset(qtype) {
            self.answer(owner, node, set);
            return Step::Done;
        }
        // NSEC belongs to the CNAME's owner (RFC 4035 §2.5): a query for it
        // is about this name, not the target (as Knot answers in NSEC3
        // zones, where the name has no NSEC).
        if qtype != rtype::CNAME
            && qtype != rtype::NSEC
            && let Some(cname) = node.rrset(rtype::CNAME)
        {
            if self.visited.contains(&node.id()) {
                return Step::Done;
            }
            self.visited.push(node.id());
            if !self.put(owner, cname, Section::Answer, None) {
                return Step::Done;
            }
            let Some(&at) = self.rdata_at.first() else {
                return Step::Done;
            };
            self.sigs(owner, node, rtype::CNAME, Section::Answer);
            let target = cname.rdatas().next().unwrap_or(b"\0");
            if next.read_lower(target).is_err() {
                return Step::Done;
            }
            return Step::Chase(at);
        }
        self.nodata(node);
        Step::Done
    }

    /// NODATA at `node` (RFC 4035 §3.1.3.1): its NSEC shows the types it
    /// has; an empty non-terminal has none, and the NSEC that covers its
    /// name shows that too.
    fn nodata(&mut self, node: Node<'z>) {
        self.res.class = AnswerClass::NoData;
        self.res.key_skip = 0;
        if node.rrset(rtype::NSEC).is_some() {
            self.prove(node);
        } else {
            self.cover(node.owner());
        }
        // NSEC3 (RFC 5155 §7.2.3, §7.2.4): the NSEC3 matching the name;
        // without one (a DS query at an insecure cut in an opt-out span),
        // the closest provable encloser proof.
        if !self.nsec3_match(node) {
            self.nsec3_closest_encloser(node);
        }
        self.negative(rcode::NOERROR);
    }

    /// RFC 6672 §3.3: the DNAME, then a CNAME synthesized from it.
    fn dname(
        &mut self,
        node: Node<'z>,
        name: &NameBuf,
        next: &mut NameBuf,
        origin: Origin,
        skip: usize,
    ) -> Step {
        let Some(set) = node.rrset(rtype::DNAME) else {
            return Step::Done;
        };
        let dname_owner = self.owner(name, origin, skip);
        if !self.put(dname_owner, set, Section::Answer, None) {
            return Step::Done;
        }
        // The DNAME is signed; the CNAME made from it is not (RFC 6672 §5.3.1).
        self.sigs(dname_owner, node, rtype::DNAME, Section::Answer);
        let target = set.rdatas().next().unwrap_or(b"\0");
        let prefix = &name.as_wire()[..name.suffix_start(skip)];
        if next.set_concat(prefix, target).is_err() {
            // RFC 6672 §2.2: the result would be too long.
            self.res.rcode = rcode::YXDOMAIN;
            return Step::Done;
        }
        next.make_lowercase();
        let owner = self.owner(name, origin, 0);
        let mark = self.w.mark();
        let written = (|| {
            let at = self.w.begin_rr(owner, rtype::CNAME, class::IN, set.ttl())?;
            let name_at = self.w.write_name(next.as_wire(), true)?;
            self.w.end_rr(at, Section::Answer)?;
            Ok::<usize, crate::wire::WireError>(name_at)
        })();
        match written {
            // The synthesized CNAME answers a CNAME query (as in Knot).
            Ok(_) if self.req.qtype == rtype::CNAME => Step::Done,
            Ok(at) => Step::Chase(at),
            Err(_) => {
                self.w.rollback(mark);
                self.res.tc = true;
                Step::Done
            }
        }
    }

    /// An answer RRset of `node`, with its targets queued for the
    /// additional section and its RRSIGs after it.
    /// Sets the kind of the answer, and the name it is about (`skip`
    /// labels off the question name; the question name itself for a name
    /// a CNAME or DNAME led to).
    fn classify(&mut self, class: AnswerClass, origin: Origin, skip: usize) {
        self.res.class = class;
        self.res.key_skip = match origin {
            Origin::Question => u8::try_from(skip).unwrap_or(0),
            Origin::At(_) => 0,
        };
    }

    fn answer(&mut self, owner: Owner<'_>, node: Node<'z>, set: RRset<'z>) {
        self.res.class = AnswerClass::Positive;
        self.res.key_skip = 0;
        if self.put(owner, set, Section::Answer, None) {
            self.queue_targets(set, None);
            self.sigs(owner, node, set.rtype(), Section::Answer);
        }
    }

    /// With DNSSEC, the RRSIGs over `node`'s RRset of type `covered`, in
    /// the same section (RFC 4035 §3.1.1): TC when they do not fit. A
    /// wildcard's RRSIGs go out unchanged under the synthesized owner; their
    /// Labels field tells the resolver (RFC 4035 §3.1.3.3).
    fn sigs(&mut self, owner: Owner<'_>, node: Node<'z>, covered: u16, section: Section) {
        if !self.dnssec {
            return;
        }
        if let Some(sigs) = node.rrsigs(covered) {
            self.put(owner, sigs, section, None);
        }
    }

    /// Adds `node`'s NSEC or NSEC3 to the proofs, once.
    fn prove(&mut self, node: Node<'z>) {
        if !self.dnssec
            || denial_type(node).is_none()
            || self.proofs.iter().any(|p| p.id() == node.id())
            || self.proofs.len() == MAX_PROOFS
        {
            return;
        }
        self.proofs.push(node);
    }

    /// The NSEC3 parameters when DO=1 on a zone whose denial is NSEC3.
    fn nsec3_params(&self) -> Option<&'z Params> {
        let z: &'z Snapshot = self.zone;
        if !self.dnssec || z.uses_nsec() {
            return None;
        }
        z.nsec3().params()
    }

    /// The NSEC3 hash of `node`: precomputed when the snapshot was built,
    /// so made here only for a node that has none (never in a snapshot
    /// whose chain is in use).
    fn hash_of(p: &Params, node: Node<'_>) -> [u8; HASH_LEN] {
        match node
            .nsec3_hash()
            .and_then(|h| <[u8; HASH_LEN]>::try_from(h).ok())
        {
            Some(h) => h,
            None => p.hash(node.owner()),
        }
    }

    /// Adds the NSEC3 whose owner is the hash of `node`'s name; whether
    /// there is one.
    fn nsec3_match(&mut self, node: Node<'z>) -> bool {
        let Some(p) = self.nsec3_params() else {
            return false;
        };
        let z: &'z Snapshot = self.zone;
        match z.nsec3().matching(&Self::hash_of(p, node)) {
            Some(n) => {
                self.prove(n);
                true
            }
            None => false,
        }
    }

    /// Adds the NSEC3 that covers the hash of the next closer name
    /// `name`, the one hash left to the query path. Returns true when the
    /// hash is an NSEC3 owner's instead: for a name that does not exist,
    /// a hash collision (RFC 5155 §7.2.9).
    fn nsec3_cover_name(&mut self, name: &[u8]) -> bool {
        match self.nsec3_params() {
            Some(p) => self.nsec3_cover(&p.hash(name)),
            None => false,
        }
    }

    /// Adds the NSEC3 that covers the hash of `*.node`, precomputed.
    fn nsec3_cover_wildcard(&mut self, node: Node<'z>, wild: &[u8]) {
        let Some(p) = self.nsec3_params() else {
            return;
        };
        match node.wildcard_nsec3_hash() {
            Some(h) => self.nsec3_cover(h),
            None => self.nsec3_cover(&p.hash(wild)),
        };
    }

    /// Adds the NSEC3 that covers `hash`; true when `hash` is an owner's.
    fn nsec3_cover(&mut self, hash: &[u8]) -> bool {
        let z: &'z Snapshot = self.zone;
        match z.nsec3().covering(hash) {
            Some(n) => {
                self.prove(n);
                false
            }
            None => z.nsec3().matching(hash).is_some(),
        }
    }

    /// RFC 5155 §7.2.1: the closest provable encloser of `node` (the
    /// nearest ancestor with a matching NSEC3), and the NSEC3 covering the
    /// next closer name below it (with Opt-Out set, for an insecure cut).
    /// Every ancestor of a node is a node (empty non-terminals too), with
    /// its hash at hand.
    fn nsec3_closest_encloser(&mut self, node: Node<'z>) {
        let Some(p) = self.nsec3_params() else {
            return;
        };
        let z: &'z Snapshot = self.zone;
        let mut child = node;
        while let Ok((_, parent)) = split_name(child.owner()) {
            if !is_subdomain(parent, z.apex_wire()) {
                return;
            }
            let Some(up) = z.node_by_wire(parent) else {
                return;
            };
            if self.nsec3_match(up) {
                self.nsec3_cover(&Self::hash_of(p, child));
                return;
            }
            child = up;
        }
    }

    /// Adds the NSEC that covers `name` (lowercase; not a name with an
    /// NSEC of its own): the nearest NSEC owner before it in canonical
    /// order, which the order marks (glue and empty names have none).
    fn cover(&mut self, name: &[u8]) {
        if !self.dnssec || !self.zone.uses_nsec() {
            return;
        }
        if let Some(n) = self
            .zone
            .nsec_owner_before(name)
            .and_then(|o| self.zone.node_by_wire(o))
        {
            self.prove(n);
        }
    }

    /// The NSEC proofs and their RRSIGs, at the end of the authority
    /// section: mandatory, so TC when they do not fit.
    fn put_proofs(&mut self) {
        for i in 0..self.proofs.len() {
            let node = self.proofs[i];
            let Some((t, set)) = denial_type(node) else {
                continue;
            };
            let owner = Owner::Name(node.owner());
            if !self.put(owner, set, Section::Authority, None) {
                return;
            }
            self.sigs(owner, node, t, Section::Authority);
            if self.res.tc {
                return;
            }
        }
    }

    /// A referral (RFC 1034 §4.3.2 step 3b): the cut's NS in authority,
    /// glue in additional, AA clear unless the answer already holds
    /// authoritative data from a CNAME chain.
    fn referral(&mut self, cut: Node<'z>, owner: Owner<'_>) {
        if self.w.count(Section::Answer) == 0 {
            self.res.aa = false;
        }
        let Some(ns) = cut.rrset(rtype::NS) else {
            return;
        };
        if !self.put(owner, ns, Section::Authority, None) {
            return;
        }
        self.queue_targets(ns, Some(cut.owner()));
        if !self.dnssec {
            return;
        }
        // RFC 4035 §3.1.4: a secure cut's DS and its RRSIGs; else the
        // NSEC at the cut, which shows there is no DS. The NS set is the
        // child's, unsigned here.
        match cut.rrset(rtype::DS) {
            Some(ds) => {
                if self.put(owner, ds, Section::Authority, None) {
                    self.sigs(owner, cut, rtype::DS, Section::Authority);
                }
            }
            None => {
                self.prove(cut);
                // RFC 5155 §7.2.7: the NSEC3 matching the cut, or the
                // opt-out proof when it has none.
                if !self.nsec3_match(cut) {
                    self.nsec3_closest_encloser(cut);
                }
            }
        }
    }

    /// NODATA or NXDOMAIN: the SOA in authority with the negative TTL
    /// (RFC 2308 §3).
    fn negative(&mut self, code: u16) {
        self.res.rcode = code;
        let soa = self.zone.soa();
        let ttl = self.zone.negative_ttl();
        let owner = Owner::Pointer(self.apex_ptr);
        if self.put(owner, soa, Section::Authority, Some(ttl)) && self.dnssec {
            // Its RRSIGs with the same TTL (RFC 4035 §3.1.3, RFC 2308 §3).
            if let Some(sigs) = self.zone.soa_sigs() {
                self.put(owner, sigs, Section::Authority, Some(ttl));
            }
        }
    }

    /// Writes an RRset whole or not at all; when it does not fit, sets TC.
    /// Whether it was written.
    fn put(
        &mut self,
        owner: Owner<'_>,
        set: RRset<'_>,
        section: Section,
        ttl: Option<u32>,
    ) -> bool {
        let mark = self.w.mark();
        if put_rrset(self.w, owner, set, section, ttl, &mut self.rdata_at).is_err() {
            self.w.rollback(mark);
            self.res.tc = true;
            return false;
        }
        true
    }

    /// Queues the names in NS, MX, SRV, SVCB and HTTPS records for address
    /// lookup; `set` was the last RRset written. `cut` is the delegation a
    /// referral's NS set belongs to.
    fn queue_targets(&mut self, set: RRset<'z>, cut: Option<&[u8]>) {
        // RFC 9460 §4.1: SVCB and HTTPS targets get addresses too.
        if !matches!(
            set.rtype(),
            rtype::NS | rtype::MX | rtype::SRV | rtype::SVCB | rtype::HTTPS
        ) {
            return;
        }
        let Some(offset) = target_offset(set.rtype()) else {
            return;
        };
        for (i, rdata) in set.rdatas().enumerate() {
            let Some(Ok((target, _))) = rdata.get(offset..).map(split_name) else {
                continue;
            };
            if self.additional.len() >= MAX_ADDITIONAL
                || self
                    .additional
                    .iter()
                    .any(|a| crate::wire::name::eq_ignore_case(a.target, target))
            {
                continue;
            }
            self.additional.push(Additional {
                target,
                at: self.rdata_at.get(i).map(|p| p + offset),
                required: cut.is_some_and(|c| is_subdomain(target, c)),
            });
        }
    }

    /// The node holding a target's addresses: the name itself, or the
    /// wildcard that would answer for it (Knot adds synthesized addresses).
    fn find_for_additional(&self, name: &NameBuf, hashes: &SuffixHashes) -> Option<Node<'z>> {
        let below = name.label_count().checked_sub(self.zone.apex_labels())?;
        for skip in 0..=below {
            let Some(node) = self.zone.get(name.suffix(skip), hashes.get(skip)) else {
                continue;
            };
            if skip == 0 {
                return Some(node);
            }
            if node.has_flag(flags::OCCLUDED | flags::DELEGATION | flags::DNAME) {
                return None;
            }
            let suffix = name.suffix(skip);
            let mut wild = [0u8; MAX_NAME_LEN];
            wild[..2].copy_from_slice(b"\x01*");
            wild[2..2 + suffix.len()].copy_from_slice(suffix);
            return self
                .zone
                .get(&wild[..2 + suffix.len()], hashes.wildcard(skip));
        }
        None
    }

    /// A and AAAA of queued names that this zone holds.
    fn put_additional(&mut self, scratch: &mut LookupScratch) {
        let lower = &mut scratch.names[0];
        let hashes = &mut scratch.hashes;
        let apex = self.zone.apex_wire();
        for i in 0..self.additional.len() {
            let Additional {
                target,
                at,
                required,
            } = self.additional[i];
            if !is_subdomain(target, apex) {
                continue;
            }
            if lower.read_lower(target).is_err() {
                continue;
            }
            hashes.compute_into(lower);
            let Some(node) = self.find_for_additional(lower, hashes) else {
                continue;
            };
            let owner = self.pointer_to(at, target);
            for t in [rtype::A, rtype::AAAA] {
                let Some(set) = node.rrset(t) else { continue };
                let mark = self.w.mark();
                let written = put_rrset(
                    self.w,
                    owner,
                    set,
                    Section::Additional,
                    None,
                    &mut self.rdata_at,
                );
                if written.is_err() {
                    self.w.rollback(mark);
                    // Optional data is left out silently; missing
                    // in-domain glue makes the referral unusable.
                    if required {
                        self.res.tc = true;
                    }
                    return;
                }
                // RRSIGs in the additional section are optional: left out
                // when they do not fit, never TC (RFC 4035 §3.1.1). Glue
                // has none.
                if let Some(sigs) = node.rrsigs(t).filter(|_| self.dnssec) {
                    let mark = self.w.mark();
                    let written = put_rrset(
                        self.w,
                        owner,
                        sigs,
                        Section::Additional,
                        None,
                        &mut self.rdata_at,
                    );
                    if written.is_err() {
                        self.w.rollback(mark);
                        return;
                    }
                }
            }
        }
    }

    /// The owner for records of `target`, a name written at `at`: a
    /// pointer to it, which is what compression would find, without the
    /// search. A name written as a bare pointer is pointed at directly.
    fn pointer_to<'n>(&self, at: Option<usize>, target: &'n [u8]) -> Owner<'n> {
        let Some(at) = at.filter(|&a| a <= 0x3fff) else {
            return Owner::Name(target);
        };
        match self.w.written().get(at..at + 2) {
            Some(&[hi, lo]) if hi & 0xc0 == 0xc0 => {
                Owner::Pointer(u16::from_be_bytes([hi & 0x3f, lo]))
            }
            Some(&[hi, _]) if hi & 0xc0 == 0 => Owner::Pointer(at as u16),
            _ => Owner::Name(target),
        }
    }
}

/// A proof node's NSEC or NSEC3 RRset, and its type.
fn denial_type(node: Node<'_>) -> Option<(u16, RRset<'_>)> {
    node.rrset(rtype::NSEC)
        .map(|s| (rtype::NSEC, s))
        .or_else(|| node.rrset(rtype::NSEC3).map(|s| (rtype::NSEC3, s)))
}
