//! Nodes in DNSSEC canonical order (RFC 4034 §6.1), in chunks that versions
//! share: an IXFR copies only the chunks it changes.
//!
//! The order answers "what lies below this name" (a contiguous run after
//! it), gives AXFR-out and zone-file output their order, and will give NSEC
//! its predecessor search.

use core::cmp::Ordering;
use std::sync::Arc;

use super::node::Node;
use crate::wire::name::canonical_cmp;

/// A chunk is split when it grows past this.
const CHUNK_MAX: usize = 512;

#[derive(Clone, Default)]
pub struct CanonicalOrder {
    /// Sorted, non-empty chunks.
    chunks: Vec<Arc<Vec<Arc<Node>>>>,
    len: usize,
}

fn cmp(node: &Node, name: &[u8]) -> Ordering {
    canonical_cmp(node.owner().as_wire(), name)
}

impl CanonicalOrder {
    /// Builds from nodes already in canonical order.
    pub fn from_sorted(nodes: Vec<Arc<Node>>) -> Self {
        let len = nodes.len();
        let chunks = nodes
            .chunks(CHUNK_MAX / 2)
            .map(|c| Arc::new(c.to_vec()))
            .collect();
        CanonicalOrder { chunks, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk that holds `name` or would hold it.
    fn chunk_for(&self, name: &[u8]) -> usize {
        // First chunk whose first node sorts after `name`, minus one.
        let after = self
            .chunks
            .partition_point(|c| cmp(&c[0], name) != Ordering::Greater);
        after.saturating_sub(1)
    }

    /// (chunk, index) of `name`, or of where it would be inserted.
    fn find(&self, name: &[u8]) -> Result<(usize, usize), (usize, usize)> {
        if self.chunks.is_empty() {
            return Err((0, 0));
        }
        let c = self.chunk_for(name);
        match self.chunks[c].binary_search_by(|n| cmp(n, name)) {
            Ok(i) => Ok((c, i)),
            Err(i) => Err((c, i)),
        }
    }

    pub fn get(&self, name: &[u8]) -> Option<&Arc<Node>> {
        self.find(name).ok().map(|(c, i)| &self.chunks[c][i])
    }

    /// Inserts `node`, replacing the node with the same name.
    pub fn insert(&mut self, node: Arc<Node>) -> Option<Arc<Node>> {
        match self.find(node.owner().as_wire()) {
            Ok((c, i)) => Some(core::mem::replace(
                &mut Arc::make_mut(&mut self.chunks[c])[i],
                node,
            )),
            Err((c, i)) => {
                if self.chunks.is_empty() {
                    self.chunks.push(Arc::new(Vec::new()));
                }
                let chunk = Arc::make_mut(&mut self.chunks[c]);
                chunk.insert(i, node);
                if chunk.len() > CHUNK_MAX {
                    let tail = chunk.split_off(CHUNK_MAX / 2);
                    self.chunks.insert(c + 1, Arc::new(tail));
                }
                self.len += 1;
                None
            }
        }
    }

    pub fn remove(&mut self, name: &[u8]) -> Option<Arc<Node>> {
        let (c, i) = self.find(name).ok()?;
        let chunk = Arc::make_mut(&mut self.chunks[c]);
        let old = chunk.remove(i);
        if chunk.is_empty() {
            self.chunks.remove(c);
        }
        self.len -= 1;
        Some(old)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Node>> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// Nodes from `name` (or the first after it) onwards.
    pub fn iter_from(&self, name: &[u8]) -> impl Iterator<Item = &Arc<Node>> {
        let (c, i) = match self.find(name) {
            Ok(p) | Err(p) => p,
        };
        self.chunks
            .iter()
            .skip(c)
            .enumerate()
            .flat_map(move |(k, chunk)| chunk.iter().skip(if k == 0 { i } else { 0 }))
    }

    /// The last node before `name` in canonical order.
    pub fn predecessor(&self, name: &[u8]) -> Option<&Arc<Node>> {
        let (c, i) = match self.find(name) {
            Ok(p) | Err(p) => p,
        };
        if i > 0 {
            return self.chunks.get(c)?.get(i - 1);
        }
        c.checked_sub(1).and_then(|p| self.chunks[p].last())
    }

    /// Octets of the chunk arrays.
    pub fn index_bytes(&self) -> usize {
        self.chunks.len() * core::mem::size_of::<usize>()
            + self.len * core::mem::size_of::<Arc<Node>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Name;
    use crate::wire::name::parse_name_text;

    fn node(s: &str) -> Arc<Node> {
        Arc::new(Node::new(parse_name_text(s, None).unwrap(), vec![], false))
    }

    fn names(o: &CanonicalOrder) -> Vec<String> {
        o.iter().map(|n| n.owner().to_string()).collect()
    }

    #[test]
    fn keeps_order_through_inserts_and_removes() {
        let mut o = CanonicalOrder::default();
        let mut expect: Vec<Name> = Vec::new();
        for i in (0..3000).rev() {
            let n = node(&format!("h{i}.example."));
            expect.push(n.owner().clone());
            assert!(o.insert(n).is_none());
        }
        expect.sort_by(|a, b| canonical_cmp(a.as_wire(), b.as_wire()));
        let got: Vec<Name> = o.iter().map(|n| n.owner().clone()).collect();
        assert_eq!(got, expect);
        for i in (0..3000).step_by(2) {
            assert!(
                o.remove(
                    parse_name_text(&format!("h{i}.example."), None)
                        .unwrap()
                        .as_wire()
                )
                .is_some()
            );
        }
        assert_eq!(o.len(), 1500);
        assert!(o.iter().all(|n| {
            n.owner().to_string()[1..]
                .split('.')
                .next()
                .unwrap()
                .parse::<u32>()
                .unwrap()
                % 2
                == 1
        }));
    }

    #[test]
    fn subtree_runs_and_predecessors() {
        let o = CanonicalOrder::from_sorted(
            [
                "example.",
                "a.example.",
                "b.a.example.",
                "c.a.example.",
                "b.example.",
            ]
            .iter()
            .map(|s| node(s))
            .collect(),
        );
        let from: Vec<String> = o
            .iter_from(parse_name_text("a.example.", None).unwrap().as_wire())
            .map(|n| n.owner().to_string())
            .collect();
        assert_eq!(
            from,
            ["a.example.", "b.a.example.", "c.a.example.", "b.example."]
        );
        let p = o.predecessor(parse_name_text("bb.a.example.", None).unwrap().as_wire());
        assert_eq!(p.unwrap().owner().to_string(), "b.a.example.");
        assert!(
            o.predecessor(parse_name_text("example.", None).unwrap().as_wire())
                .is_none()
        );
        assert_eq!(names(&o).len(), 5);
    }

    #[test]
    fn versions_share_chunks() {
        let nodes: Vec<_> = (0..2000)
            .map(|i| node(&format!("h{i:05}.example.")))
            .collect();
        let mut sorted = nodes.clone();
        sorted.sort_by(|a, b| canonical_cmp(a.owner().as_wire(), b.owner().as_wire()));
        let a = CanonicalOrder::from_sorted(sorted);
        let mut b = a.clone();
        b.insert(node("h00500x.example."));
        let shared = a
            .chunks
            .iter()
            .zip(&b.chunks)
            .filter(|(x, y)| Arc::ptr_eq(x, y))
            .count();
        assert!(
            shared >= a.chunks.len() - 2,
            "{shared} of {}",
            a.chunks.len()
        );
    }
}
