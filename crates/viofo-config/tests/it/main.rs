//! viofo-config's tests: precedence, the Python tool's names, refusals,
//! the keys table's consistency, the generated docs table, the parsers,
//! the container image's old names.

mod container;
mod load;
mod parse;
