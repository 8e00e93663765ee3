//! One integration-test binary (links once): parser errors, the committed subset and the
//! full ChEBI-20 parity check against RDKit.

mod suite;
