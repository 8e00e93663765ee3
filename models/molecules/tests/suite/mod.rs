mod errors;
mod parity;
mod reference;
mod subset;
