//! Prints the RDKit-style features of each SMILES given on the command line.
//!
//! `cargo run --release -p molecules --example featurise -- 'C1=CC=CC=C1O'`

fn main() {
    for smiles in std::env::args().skip(1) {
        match molecules::parse_smiles(&smiles) {
            Ok(graph) => {
                println!("{smiles}");
                for (index, atom) in graph.atoms.iter().enumerate() {
                    println!("  atom {index}: {atom:?}");
                }
                for bond in &graph.bonds {
                    println!("  bond {bond:?}");
                }
            }
            Err(error) => println!("{smiles}: error: {error}"),
        }
    }
}
