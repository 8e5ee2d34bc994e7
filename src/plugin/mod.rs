//! The Terraform plugin protocol v6 layer: go-plugin handshake with AutoMTLS,
//! the gRPC service, values and their wire codecs, schemas and diagnostics.
//! Nothing in here knows about Hikube.

pub mod diag;
pub mod framework;
pub mod handshake;
pub mod logging;
pub mod pb;
pub mod plan;
pub mod schema;
pub mod server;
pub mod tls;
pub mod value;
