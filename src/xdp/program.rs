//! The XDP program, as eBPF instructions written here rather than a
//! compiled object: it is a few dozen instructions, and keeping it in
//! Rust means no clang at build time and no blob in the tree.
//!
//! It takes UDP to one port, over IPv4 without options or fragments and
//! over IPv6 without extension headers, and redirects it into the AF_XDP
//! socket of the queue it arrived on (`bpf_redirect_map` on an XSKMAP).
//! Everything else, and a queue with no socket, goes to the kernel
//! (`XDP_PASS`), untouched.

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    code: u8,
    /// Destination register in the low nibble, source in the high.
    regs: u8,
    off: i16,
    imm: i32,
}

/// `XDP_PASS`: give the packet to the kernel's stack.
pub const XDP_PASS: i32 = 2;
/// `BPF_FUNC_redirect_map`.
const HELPER_REDIRECT_MAP: i32 = 51;
/// `BPF_PSEUDO_MAP_FD`: a 64-bit immediate that is a map's descriptor.
const PSEUDO_MAP_FD: u8 = 1;

// Opcodes (linux/bpf.h): class | size/op | source.
const LDX_W: u8 = 0x61;
const LDX_H: u8 = 0x69;
const LDX_B: u8 = 0x71;
const MOV64_X: u8 = 0xbf;
const MOV64_K: u8 = 0xb7;
const ADD64_K: u8 = 0x07;
const AND64_K: u8 = 0x57;
const JA: u8 = 0x05;
const JEQ_K: u8 = 0x15;
const JNE_K: u8 = 0x55;
const JGT_X: u8 = 0x2d;
const CALL: u8 = 0x85;
const EXIT: u8 = 0x95;
const LD_IMM64: u8 = 0x18;

const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;
const R6: u8 = 6;

/// `struct xdp_md` offsets.
const MD_DATA: i16 = 0;
const MD_DATA_END: i16 = 4;
const MD_RX_QUEUE: i16 = 16;

const ETH_LEN: i32 = 14;
const IPV4_LEN: i32 = 20;
const IPV6_LEN: i32 = 40;
const UDP_LEN: i32 = 8;
const PROTO_UDP: i32 = 17;

/// A 16-bit field as a half-word load reads it from network order.
fn net16(v: u16) -> i32 {
    i32::from(u16::from_ne_bytes(v.to_be_bytes()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    Ipv4,
    Ipv6,
    Redirect,
    Pass,
}

/// A forward-jumping assembler: jumps name a label, resolved at the end.
struct Asm {
    insns: Vec<Insn>,
    fixups: Vec<(usize, Label)>,
    labels: Vec<(Label, usize)>,
}

impl Asm {
    fn op(&mut self, code: u8, dst: u8, src: u8, off: i16, imm: i32) {
        self.insns.push(Insn {
            code,
            regs: dst | (src << 4),
            off,
            imm,
        });
    }

    fn jump(&mut self, code: u8, dst: u8, src: u8, imm: i32, to: Label) {
        self.fixups.push((self.insns.len(), to));
        self.op(code, dst, src, 0, imm);
    }

    fn label(&mut self, l: Label) {
        self.labels.push((l, self.insns.len()));
    }

    /// `dst = data + n; if dst > data_end goto pass`: the verifier then
    /// knows `n` octets from `data` may be read.
    fn need(&mut self, n: i32) {
        self.op(MOV64_X, R4, R2, 0, 0);
        self.op(ADD64_K, R4, 0, 0, n);
        self.jump(JGT_X, R4, R3, 0, Label::Pass);
    }

    fn finish(mut self) -> Vec<Insn> {
        for (at, to) in self.fixups {
            let target = self
                .labels
                .iter()
                .find(|(l, _)| *l == to)
                .map(|(_, i)| *i)
                .expect("every label used is placed");
            // Relative to the next instruction.
            self.insns[at].off = (target as isize - at as isize - 1) as i16;
        }
        self.insns
    }
}

/// The program for UDP port `port`, redirecting into the XSKMAP `xsks`
/// (a descriptor).
pub fn dns_redirect(port: u16, xsks: i32) -> Vec<Insn> {
    let mut a = Asm {
        insns: Vec::with_capacity(48),
        fixups: Vec::new(),
        labels: Vec::new(),
    };
    a.op(MOV64_X, R6, R1, 0, 0);
    a.op(LDX_W, R2, R1, MD_DATA, 0);
    a.op(LDX_W, R3, R1, MD_DATA_END, 0);
    a.need(ETH_LEN);
    a.op(LDX_H, R5, R2, 12, 0);
    a.jump(JEQ_K, R5, 0, net16(0x0800), Label::Ipv4);
    a.jump(JEQ_K, R5, 0, net16(0x86dd), Label::Ipv6);
    a.jump(JA, 0, 0, 0, Label::Pass);

    a.label(Label::Ipv4);
    a.need(ETH_LEN + IPV4_LEN + UDP_LEN);
    // Version 4, header of 5 words: no options (RFC 791 §3.1).
    a.op(LDX_B, R5, R2, 14, 0);
    a.jump(JNE_K, R5, 0, 0x45, Label::Pass);
    a.op(LDX_B, R5, R2, 14 + 9, 0);
    a.jump(JNE_K, R5, 0, PROTO_UDP, Label::Pass);
    // More-fragments or an offset: a fragment, for the kernel to reassemble.
    a.op(LDX_H, R5, R2, 14 + 6, 0);
    a.op(AND64_K, R5, 0, 0, net16(0x3fff));
    a.jump(JNE_K, R5, 0, 0, Label::Pass);
    a.op(LDX_H, R5, R2, (ETH_LEN + IPV4_LEN + 2) as i16, 0);
    a.jump(JNE_K, R5, 0, net16(port), Label::Pass);
    a.jump(JA, 0, 0, 0, Label::Redirect);

    a.label(Label::Ipv6);
    a.need(ETH_LEN + IPV6_LEN + UDP_LEN);
    // UDP right after the fixed header: no extension headers.
    a.op(LDX_B, R5, R2, 14 + 6, 0);
    a.jump(JNE_K, R5, 0, PROTO_UDP, Label::Pass);
    a.op(LDX_H, R5, R2, (ETH_LEN + IPV6_LEN + 2) as i16, 0);
    a.jump(JNE_K, R5, 0, net16(port), Label::Pass);

    a.label(Label::Redirect);
    a.op(LDX_W, R2, R6, MD_RX_QUEUE, 0);
    a.op(LD_IMM64, R1, PSEUDO_MAP_FD, 0, xsks);
    a.op(0, 0, 0, 0, 0);
    // The flags' low bits are the action when the queue has no socket.
    a.op(MOV64_K, R3, 0, 0, XDP_PASS);
    a.op(CALL, 0, 0, 0, HELPER_REDIRECT_MAP);
    a.op(EXIT, 0, 0, 0, 0);

    a.label(Label::Pass);
    a.op(MOV64_K, R0, 0, 0, XDP_PASS);
    a.op(EXIT, 0, 0, 0, 0);
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_land_on_their_labels_and_the_program_ends_in_exits() {
        let p = dns_redirect(53, 7);
        let exits: Vec<usize> = (0..p.len()).filter(|&i| p[i].code == EXIT).collect();
        assert_eq!(exits.len(), 2);
        assert_eq!(*exits.last().unwrap(), p.len() - 1);
        // Every jump goes forward, inside the program, to a real
        // instruction (not the second half of the 64-bit load).
        for (i, insn) in p.iter().enumerate() {
            if matches!(insn.code, JA | JEQ_K | JNE_K | JGT_X) {
                let to = i as isize + 1 + insn.off as isize;
                assert!(to > i as isize && (to as usize) < p.len(), "jump at {i}");
                assert_ne!(p[to as usize - 1].code, LD_IMM64);
            }
        }
        let pass = p.len() - 2;
        assert_eq!(p[pass].code, MOV64_K);
        assert_eq!(p[pass].imm, XDP_PASS);
        // The map's descriptor and the port, in network order.
        let map = p.iter().position(|i| i.code == LD_IMM64).unwrap();
        assert_eq!((p[map].imm, p[map].regs >> 4), (7, PSEUDO_MAP_FD));
        let port = net16(53);
        assert_eq!(
            p.iter()
                .filter(|i| i.code == JNE_K && i.imm == port)
                .count(),
            2
        );
        // A half-word load puts the octets in memory order: 0, 53.
        assert_eq!((port as u16).to_ne_bytes(), [0, 53]);
    }
}
