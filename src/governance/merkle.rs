//! RFC 6962 Merkle tree hashing over evidence lines, for checkpoints.
//!
//! leaf = SHA-256(0x00 ‖ line), node = SHA-256(0x01 ‖ left ‖ right); a tree of n > 1 leaves
//! splits at the largest power of two below n. A checkpoint records (size, root); the log was
//! only appended to since if the root of its first `size` lines is still that root.

use sha2::{Digest, Sha256};

/// A 32-byte hash.
pub type Hash = [u8; 32];

/// The leaf hash of one line (without its newline).
pub fn leaf(line: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(line);
    h.finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The Merkle tree hash of `leaves` (already leaf-hashed); SHA-256 of nothing when empty.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n);
            node(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The root over `lines`, as lowercase hex.
pub fn root_hex<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> String {
    let leaves: Vec<Hash> = lines.into_iter().map(leaf).collect();
    crate::id::hex(&root(&leaves))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of RFC 6962's reference implementation (certificate-transparency
    /// `merkle_tree_test.cc`): roots of the first 1..=8 of these leaves.
    #[test]
    fn matches_the_rfc6962_reference_vectors() {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        for n in 1..=8 {
            assert_eq!(
                root_hex(inputs[..n].iter().copied()),
                roots[n - 1],
                "{n} leaves"
            );
        }
        assert_eq!(
            root_hex(std::iter::empty()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
