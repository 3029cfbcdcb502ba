//! Money: the kit's rules (cent rounding, French VAT rates, line totals).

pub use subgraph_kit::money::*;
